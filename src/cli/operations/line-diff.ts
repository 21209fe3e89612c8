/** A line diff of two texts (longest common subsequence), as unified-diff lines with a few lines of context; a changed line reads as its old line, then its new one. */

type Line = { mark: ' ' | '-' | '+'; text: string };

function diffLines(before: readonly string[], after: readonly string[]): Line[] {
  const rows = before.length;
  const columns = after.length;
  // common[i][j]: length of the longest common subsequence of before[i..] and after[j..].
  const common = Array.from({ length: rows + 1 }, () => new Uint32Array(columns + 1));
  for (let i = rows - 1; i >= 0; i--) {
    for (let j = columns - 1; j >= 0; j--) common[i]![j] = before[i] === after[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
  }
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < rows || j < columns) {
    if (i < rows && j < columns && before[i] === after[j]) {
      lines.push({ mark: ' ', text: before[i]! });
      i++;
      j++;
    } else if (i < rows && (j === columns || common[i + 1]![j]! >= common[i]![j + 1]!)) lines.push({ mark: '-', text: before[i++]! });
    else lines.push({ mark: '+', text: after[j++]! });
  }
  return lines;
}

/** The changed lines of `after` against `before`, each with up to `context` unchanged lines around it; `...` between distant changes. */
export function unifiedDiff(before: string, after: string, context = 3): string[] {
  const lines = diffLines(before.split('\n'), after.split('\n'));
  const near = lines.map((_, index) => lines.slice(Math.max(0, index - context), index + context + 1).some((line) => line.mark !== ' '));
  const out: string[] = [];
  let skipped = false;
  lines.forEach((line, index) => {
    if (!near[index]) {
      skipped = true;
      return;
    }
    if (skipped && out.length > 0) out.push('...');
    skipped = false;
    out.push(`${line.mark} ${line.text}`);
  });
  return out;
}
