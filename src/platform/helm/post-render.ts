/**
 * helm's post-renderer for threeport's releases: run by helm with the rendered manifests on stdin,
 * it writes them back with threeport's labels on every object, so the agent finds what a release
 * made and threeport tells its objects from others'. (helm itself then sets
 * `app.kubernetes.io/managed-by: Helm`, which it relies on to recognise its objects.) Run as
 * `node post-render.ts --label key=value …` (helm --post-renderer / --post-renderer-args).
 */
import { pathToFileURL } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export function withLabels(rendered: string, labels: Record<string, string>): string {
  const out: string[] = [];
  // As lenient as helm's own parser: a key given twice keeps its last value.
  for (const document of parseAllDocuments(rendered, { uniqueKeys: false })) {
    if (document.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${document.errors[0]!.message}`);
    const object: unknown = document.toJS();
    if (typeof object !== 'object' || object === null || Array.isArray(object)) continue;
    const manifest = object as { kind?: unknown; metadata?: { labels?: Record<string, string> } };
    if (typeof manifest.kind !== 'string') continue;
    if (manifest.kind.endsWith('List')) throw new Error(`a chart renders a ${manifest.kind}: threeport labels objects one by one and needs them as separate documents`);
    manifest.metadata = { ...manifest.metadata, labels: { ...manifest.metadata?.labels, ...labels } };
    out.push(stringify(manifest));
  }
  return out.map((text) => `---\n${text}`).join('');
}

export function labelArguments(argv: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] !== '--label') continue;
    const pair = argv[++index] ?? '';
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--label wants key=value, got "${pair}"`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  process.stdout.write(withLabels(Buffer.concat(chunks).toString('utf8'), labelArguments(process.argv.slice(2))));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // Not process.exit: helm reads this from a pipe, which exit could cut short.
    process.stderr.write(`threeport post-renderer: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
