/**
 * helm's post-renderer for threeport's releases: run by helm with the rendered manifests on stdin,
 * it writes them back, with the release's additional resources after them, and threeport's labels
 * on every object, so the agent finds what a release made and threeport tells its objects from
 * others'. (helm itself then sets
 * `app.kubernetes.io/managed-by: Helm`, which it relies on to recognise its objects.) Run as
 * `node post-render.ts [--append FILE] --label key=value …` (helm --post-renderer /
 * --post-renderer-args), FILE holding the additional resources as YAML documents.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isMap, parseAllDocuments, type YAMLMap } from 'yaml';

export function withLabels(rendered: string, labels: Record<string, string>): string {
  const out: string[] = [];
  // Read as helm and Kubernetes read YAML (1.1: 0644 is octal, "yes" stays a quoted string, big
  // integers exact; a key given twice keeps its last value), and written back node by node: only
  // the labels change, everything else keeps the text the chart rendered.
  for (const document of parseAllDocuments(rendered, { version: '1.1', uniqueKeys: false, intAsBigInt: true })) {
    if (document.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${document.errors[0]!.message}`);
    const kind: unknown = document.get('kind');
    if (typeof kind !== 'string') continue; // an empty document (a template that rendered nothing)
    if (kind.endsWith('List')) throw new Error(`a chart renders a ${kind}: threeport labels objects one by one and needs them as separate documents`);
    let metadata = document.get('metadata', true);
    if (!isMap(metadata)) {
      metadata = document.createNode({});
      document.set('metadata', metadata);
    }
    const current = (metadata as YAMLMap).get('labels', true);
    if (isMap(current)) for (const [key, value] of Object.entries(labels)) current.set(key, value);
    else (metadata as YAMLMap).set('labels', document.createNode({ ...labels }));
    const text = document.toString();
    out.push(text.startsWith('---') ? text : `---\n${text}`);
  }
  return out.join('');
}

export interface PostRenderArguments {
  labels: Record<string, string>;
  /** A file of YAML documents to add to what the chart rendered. */
  append?: string;
}

export function postRenderArguments(argv: readonly string[]): PostRenderArguments {
  const parsed: PostRenderArguments = { labels: {} };
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === '--append') {
      parsed.append = argv[++index] ?? '';
      continue;
    }
    if (argv[index] !== '--label') continue;
    const pair = argv[++index] ?? '';
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--label wants key=value, got "${pair}"`);
    parsed.labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return parsed;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const { labels, append } = postRenderArguments(process.argv.slice(2));
  const rendered = Buffer.concat(chunks).toString('utf8');
  const additional = append ? `\n---\n${readFileSync(append, 'utf8')}` : '';
  process.stdout.write(withLabels(rendered + additional, labels));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // Not process.exit: helm reads this from a pipe, which exit could cut short.
    process.stderr.write(`threeport post-renderer: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
