/**
 * A parser for the plain block subset of YAML that threeport configs are written in (by tptctl
 * and by the original's viper): block mappings and lists, plain and simply quoted scalars,
 * `true`/`false`/`null`, literal block scalars (certificates), comments on their own lines.
 * Anything else — flow collections, anchors, tags, numbers, escapes, folded or multi-line plain
 * scalars, several documents — gives `undefined`, and the caller uses the `yaml` package.
 *
 * It exists because loading and first running `yaml` costs `tptctl version` more than everything
 * else it does. Whenever it answers, the answer is what `yaml.parse` returns: see
 * test/cli/plain-yaml.test.ts, which checks that on generated configs.
 */

interface Line {
  indent: number;
  /** Without the indentation. */
  text: string;
  raw: string;
}

class Decline extends Error {}

const decline = (): never => {
  throw new Decline();
};

const keyLine = /^([A-Za-z0-9_-]+):(?: +(.*))?$/;
/** Plain scalars the YAML 1.2 core schema reads as numbers (not supported here) or null/booleans. */
const numeric = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const booleans: Record<string, boolean> = { true: true, True: true, TRUE: true, false: false, False: false, FALSE: false };
const nulls = new Set(['~', 'null', 'Null', 'NULL']);

type Value = { kind: 'empty' } | { kind: 'literal'; chomp: '' | '-' } | { kind: 'scalar'; value: string | boolean | null };

function valueOf(raw: string | undefined): Value {
  const text = (raw ?? '').trimEnd();
  if (text === '') return { kind: 'empty' };
  if (text === '|' || text === '|-') return { kind: 'literal', chomp: text === '|' ? '' : '-' };
  const quoted = /^'([^']*)'$/.exec(text) ?? /^"([^"\\]*)"$/.exec(text);
  if (quoted) return { kind: 'scalar', value: quoted[1]! };
  // Indicators (anchors, aliases, tags, flow collections, open quotes, …), comments, `: ` and a
  // trailing `:` are left to the real parser.
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(text) || text.includes(' #') || text.includes(': ') || text.endsWith(':')) decline();
  if (numeric.test(text)) decline();
  if (text in booleans) return { kind: 'scalar', value: booleans[text]! };
  if (nulls.has(text)) return { kind: 'scalar', value: null };
  return { kind: 'scalar', value: text };
}

class Parser {
  private readonly lines: Line[];
  private readonly endsWithNewline: boolean;
  private index = 0;

  constructor(text: string) {
    this.endsWithNewline = text.endsWith('\n');
    this.lines = (this.endsWithNewline ? text.slice(0, -1) : text).split('\n').map((raw) => {
      const body = raw.trimStart();
      return { indent: raw.length - body.length, text: body, raw };
    });
  }

  /** The next line that is neither blank nor a comment, outside block scalars. */
  private peek(): Line | undefined {
    while (this.index < this.lines.length) {
      const line = this.lines[this.index]!;
      if (line.text !== '' && !line.text.startsWith('#')) return line;
      this.index++;
    }
    return undefined;
  }

  document(): unknown {
    const first = this.peek();
    if (!first || first.indent !== 0) decline();
    const value = this.node(0);
    if (this.peek()) decline();
    return value;
  }

  private node(indent: number): unknown {
    const line = this.peek()!;
    return line.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent);
  }

  private mapping(indent: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (let line = this.peek(); line && line.indent === indent && !line.text.startsWith('- '); line = this.peek()) {
      const match = keyLine.exec(line.text) ?? decline();
      const key = match[1]!;
      if (key in result || key === '__proto__' || numeric.test(key) || key in booleans || nulls.has(key)) decline();
      this.index++;
      result[key] = this.value(valueOf(match[2]), indent, true);
    }
    const after = this.peek();
    if (after && after.indent > indent) decline();
    return result;
  }

  private sequence(indent: number): unknown[] {
    const result: unknown[] = [];
    for (let line = this.peek(); line && line.indent === indent && line.text.startsWith('- '); line = this.peek()) {
      const rest = line.text.slice(2);
      const item = rest.trimStart();
      const column = indent + 2 + rest.length - item.length;
      if (keyLine.test(item)) {
        // `- Key: value` opens a mapping at the column of its first key.
        this.lines[this.index] = { indent: column, text: item, raw: line.raw };
        result.push(this.mapping(column));
      } else {
        this.index++;
        const value = valueOf(item);
        if (value.kind !== 'scalar') decline();
        result.push(this.value(value, indent, false));
      }
    }
    const after = this.peek();
    if (after && after.indent > indent) decline();
    return result;
  }

  /** The value of a key at `indent` (or of a list item), given what followed the key on its line. */
  private value(value: Value, indent: number, ofKey: boolean): unknown {
    if (value.kind === 'literal') return this.literal(indent, value.chomp);
    const next = this.peek();
    if (value.kind === 'scalar') {
      if (next && next.indent > indent) decline(); // a plain scalar continued on the next line
      return value.value;
    }
    if (next && next.indent > indent) return this.node(next.indent);
    // A list may sit at its key's column.
    if (ofKey && next && next.indent === indent && next.text.startsWith('- ')) return this.sequence(indent);
    return null;
  }

  /** A `|` or `|-` block scalar under a key at `indent`. */
  private literal(indent: number, chomp: '' | '-'): string {
    const start = this.index;
    const first = this.lines[start];
    if (!first || first.text === '' || first.indent <= indent) decline();
    const column = first!.indent;
    const content: string[] = [];
    let end = start;
    for (; end < this.lines.length; end++) {
      const line = this.lines[end]!;
      if (line.text === '') content.push(line.raw.slice(column));
      else if (line.indent >= column) content.push(line.raw.slice(column));
      else if (line.text.startsWith('#')) break; // a comment less indented than the content ends the block
      else if (line.indent > indent) decline();
      else break;
    }
    // A block at the very end of a file without a final line break: let the real parser decide.
    if (end === this.lines.length && !this.endsWithNewline) decline();
    while (content.length > 0 && content[content.length - 1]!.trim() === '') {
      // A trailing line with more spaces than the block's indentation is content in YAML.
      if (content[content.length - 1] !== '') decline();
      content.pop();
    }
    this.index = end;
    return content.join('\n') + (chomp === '-' ? '' : '\n');
  }
}

/** The value `yaml.parse` would return for `text`, or undefined when the text is outside the subset. */
export function parsePlainYaml(text: string): unknown {
  // Tabs, carriage returns and byte-order marks are rare in configs; the real parser has the rules.
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  try {
    return new Parser(text).document();
  } catch (error) {
    if (error instanceof Decline) return undefined;
    throw error;
  }
}
