/**
 * A WorkloadDefinition's YAMLDocument as Kubernetes manifests: one per document (a `List` gives
 * its items), empty documents skipped, anything that is not a Kubernetes object a clear error
 * naming the document and its line.
 */
import { parseAllDocuments } from 'yaml';
import { TerminalError } from '../../controller/errors.ts';
import type { Manifest } from '../../model/manifest.ts';
import { resourceKeyOf } from '../../model/resource-key.ts';

export interface ParsedManifest {
  manifest: Manifest;
  key: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseManifests(yamlDocument: string): ParsedManifest[] {
  const parsed: ParsedManifest[] = [];
  const seen = new Map<string, number>();
  const documents = parseAllDocuments(yamlDocument, { prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [documents];
  list.forEach((document, index) => {
    const where = `YAMLDocument document ${index + 1}${document.range ? ` (line ${lineOf(yamlDocument, document.range[0])})` : ''}`;
    const error = document.errors[0];
    if (error) throw new TerminalError(`${where}: ${error.message.split('\n')[0]}`);
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const items = isRecord(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) {
      const key = resourceKeyOf(item);
      if (typeof key !== 'string') throw new TerminalError(`${where} ${key.problem}`);
      const first = seen.get(key);
      if (first !== undefined) throw new TerminalError(`${where} declares ${describeKey(key)} again (it is document ${first}): each resource once`);
      seen.set(key, index + 1);
      parsed.push({ manifest: item as Manifest, key });
    }
  });
  if (parsed.length === 0) throw new TerminalError('YAMLDocument holds no Kubernetes object');
  return parsed;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset && index < text.length; index++) if (text.charCodeAt(index) === 10) line++;
  // The range starts at the document's first content, after any `---`.
  return line;
}

function describeKey(key: string): string {
  const [, kind, namespace, name] = key.split('/');
  return `${kind} ${name}${namespace ? ` in namespace ${namespace}` : ''}`;
}
