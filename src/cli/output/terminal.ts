/**
 * Where tptctl writes and how: the original's `Info:`/`Warning:`/`Complete:`/`Error:` lines, with
 * colour only on a terminal and never with NO_COLOR. Errors and warnings go to stderr so stdout
 * stays machine-readable (`-o json`); the original printed everything on stdout.
 */
export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Width of a terminal. */
  columns?: number;
}

export interface Terminal {
  out: Stream;
  err: Stream;
  info(message: string): void;
  warning(message: string): void;
  complete(message: string): void;
  error(message: string): void;
  /** Advice after an error, on stderr with it. */
  hint(message: string): void;
  /** A line of data on stdout (tables, JSON, YAML). */
  print(text: string): void;
}

const colours = { red: 31, yellow: 33, green: 32 } as const;

export function colourEnabled(stream: Stream, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export function createTerminal(out: Stream = process.stdout, err: Stream = process.stderr, env: NodeJS.ProcessEnv = process.env): Terminal {
  const paint = (stream: Stream, colour: keyof typeof colours, text: string): string =>
    colourEnabled(stream, env) ? `\x1b[${colours[colour]}m${text}\x1b[0m` : text;
  return {
    out,
    err,
    info: (message) => out.write(`Info: ${message}\n`),
    warning: (message) => err.write(`${paint(err, 'yellow', 'Warning:')} ${message}\n`),
    complete: (message) => out.write(`${paint(out, 'green', 'Complete:')} ${message}\n`),
    error: (message) => err.write(`${paint(err, 'red', 'Error:')} ${message}\n`),
    hint: (message) => err.write(`Info: ${message}\n`),
    print: (text) => out.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
