/** Plain-text tables in the original's layout (Go tabwriter, padding 4, upper-case headers). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 4)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** A Go time.Duration rounded to seconds, as the original's AGE column prints it: 2h36m34s, 45s, 1m0s. */
export function formatAge(from: string | undefined, now: Date = new Date()): string {
  if (!from) return '<unknown>';
  const milliseconds = Math.max(0, now.getTime() - Date.parse(from));
  return Number.isFinite(milliseconds) ? formatDuration(milliseconds) : '<unknown>';
}

/** Milliseconds as a Go time.Duration rounded to seconds: 2h36m34s, 45s, 1m0s. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.round(milliseconds / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}
