/**
 * Config files as the user wrote them: one or many YAML documents, each remembered with its file
 * and line positions so every error can name the file, the line and the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { CliError } from '../errors.ts';

export type YamlPath = readonly (string | number)[];

export interface SourceDocument {
  file: string;
  /** Side files are resolved relative to this directory (the config file's). */
  baseDir: string;
  /** 1-based position of the document in its file. */
  index: number;
  value: Record<string, unknown>;
  /** "file:line" of the node at `path` (or of the nearest ancestor that exists). */
  locate(path: YamlPath): string;
}

/** A mistake in a config file, with where it is. */
export class ConfigFileError extends CliError {}

export function formatPath(path: YamlPath): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

export function fileError(source: SourceDocument, path: YamlPath, message: string): ConfigFileError {
  const where = path.length > 0 ? `${source.locate(path)}: ${formatPath(path)}` : source.locate([]);
  return new ConfigFileError(`${where}: ${message}`);
}

function locator(file: string, document: Document, lines: LineCounter): (path: YamlPath) => string {
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth);
      const node = sub.length === 0 ? document.contents : document.getIn(sub, true);
      // Point at the key when there is one: "line of the field".
      const parent = depth > 0 ? (depth === 1 ? document.contents : document.getIn(path.slice(0, depth - 1), true)) : undefined;
      const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === path[depth - 1]) : undefined;
      const range = (pair && isScalar(pair.key) ? pair.key.range : undefined) ?? (node as { range?: [number, number, number] } | null)?.range;
      if (range) return `${file}:${lines.linePos(range[0]).line}`;
    }
    return file;
  };
}

/** Parses YAML text into documents; empty documents (a lone `---`) are skipped. */
export function parseDocuments(text: string, file: string): SourceDocument[] {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const parsed: SourceDocument[] = [];
  let index = 0;
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    index++;
    const problem = document.errors[0];
    if (problem) {
      const line = lines.linePos(problem.pos[0]).line;
      throw new ConfigFileError(`${file}:${line}: invalid YAML: ${problem.message.split('\n')[0]}`);
    }
    if (document.contents === null) continue;
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    const locate = locator(file, document, lines);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigFileError(`${locate([])}: a threeport config document must be a mapping with one top-level key naming the kind, e.g. "WorkloadDefinition:"`);
    }
    parsed.push({ file, baseDir: dirname(resolve(file)), index, value: value as Record<string, unknown>, locate });
  }
  if (parsed.length === 0) throw new ConfigFileError(`${file}: no YAML document in the file`);
  return parsed;
}

export function readDocuments(file: string): SourceDocument[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `config file ${file} does not exist` : `cannot read config file ${file}: ${code ?? (error as Error).message}`);
  }
  return parseDocuments(text, file);
}
