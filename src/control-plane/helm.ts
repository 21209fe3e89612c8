/**
 * Where the controllers' helm comes from: `THREEPORT_HELM` (a path), else `helm` on the PATH,
 * else the one threeport builds into its cache (as the local runtime's tools are: a Go toolchain
 * is needed the first time). Found on first use, not at start; a failure is said on the
 * instances' Status and tried again. `THREEPORT_CHART_MIRROR` points every chart at one mirror,
 * `THREEPORT_CHART_MIRROR_MAP` some repositories at others.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
// Not the local runtime's index: it brings the Kubernetes client its clusters use.
import { cacheRoot } from '../local-runtime/cache.ts';
import { installTools } from '../local-runtime/tools/install.ts';
import { onPath } from '../local-runtime/tools/on-path.ts';
import { checkRepository, ChartSourceError, Helm, type ChartMirror } from '../platform/helm/index.ts';
import { ConfigError } from './config.ts';

const execFileAsync = promisify(execFile);

/**
 * THREEPORT_CHART_MIRROR (one repository or registry for every chart) and
 * THREEPORT_CHART_MIRROR_MAP (`from=to,…`: a repository's charts fetched from another place
 * instead), checked before anything starts.
 */
export function chartMirrorOf(env: NodeJS.ProcessEnv = process.env): ChartMirror | undefined {
  const url = env.THREEPORT_CHART_MIRROR?.trim();
  const map = env.THREEPORT_CHART_MIRROR_MAP?.trim();
  if (!url && !map) return undefined;
  try {
    const mappings: Record<string, string> = {};
    for (const entry of (map ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
      const at = entry.indexOf('=');
      if (at <= 0) throw new ConfigError(`invalid chart mirror mapping "${entry}" (--chart-mirror-map or THREEPORT_CHART_MIRROR_MAP): expected repository=mirror, e.g. https://charts.jetstack.io=https://mirror.example.com/jetstack`);
      mappings[checkRepository(entry.slice(0, at), 'repository in the chart mirror map')] = checkRepository(entry.slice(at + 1), 'mirror in the chart mirror map');
    }
    return {
      ...(url && { url: checkRepository(url, 'chart mirror (--chart-mirror or THREEPORT_CHART_MIRROR)') }),
      ...(Object.keys(mappings).length > 0 && { mappings }),
    };
  } catch (error) {
    throw error instanceof ChartSourceError ? new ConfigError(error.message) : error;
  }
}

/** `mirror`: the controllers' --chart-mirror, checked already; else THREEPORT_CHART_MIRROR. */
export function helmProvider(env: NodeJS.ProcessEnv = process.env, mirror: ChartMirror | undefined = chartMirrorOf(env)): () => Promise<Helm> {
  let found: Promise<Helm> | undefined;
  const locate = async (): Promise<Helm> => {
    const binary = env.THREEPORT_HELM?.trim() || onPath('helm', env.PATH) || (await installTools(['helm'])).helm;
    if (!binary) throw new Error('no helm: set THREEPORT_HELM to a helm v3 binary, or put helm on the PATH');
    await requireHelm3(binary);
    return new Helm({ binary, home: join(cacheRoot(), 'helm-home'), ...(mirror && { mirror }) });
  };
  return () =>
    (found ??= locate().catch((error: unknown) => {
      found = undefined; // looked for again on the next reconcile
      throw error;
    }));
}

/** threeport drives helm 3 (its post-renderer flags changed in helm 4): another major is refused, saying which. */
async function requireHelm3(binary: string): Promise<void> {
  const { stdout } = await execFileAsync(binary, ['version', '--short'], { timeout: 30_000 }).catch((error: unknown) => {
    throw new Error(`cannot run ${binary} version: ${(error as Error).message.split('\n')[0]}`);
  });
  const version = stdout.trim();
  if (!/^v3\./.test(version)) throw new Error(`${binary} is helm ${version || '(unknown version)'}; threeport needs helm v3 (set THREEPORT_HELM to one)`);
}
