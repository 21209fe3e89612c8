/**
 * Where the controllers' helm comes from: `THREEPORT_HELM` (a path), else `helm` on the PATH,
 * else the one threeport builds into its cache (as the local runtime's tools are: a Go toolchain
 * is needed the first time). Found on first use, not at start; a failure is said on the
 * instances' Status and tried again. `THREEPORT_CHART_MIRROR` points every chart at one mirror.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { cacheRoot, installTools } from '../local-runtime/index.ts';
import { checkRepository, ChartSourceError, Helm, type ChartMirror } from '../platform/helm/index.ts';
import { ConfigError } from './config.ts';

/** THREEPORT_CHART_MIRROR checked before anything starts. */
export function chartMirrorOf(env: NodeJS.ProcessEnv = process.env): ChartMirror | undefined {
  const url = env.THREEPORT_CHART_MIRROR?.trim();
  if (!url) return undefined;
  try {
    return { url: checkRepository(url, 'chart mirror (THREEPORT_CHART_MIRROR)') };
  } catch (error) {
    throw error instanceof ChartSourceError ? new ConfigError(error.message) : error;
  }
}

export function helmProvider(env: NodeJS.ProcessEnv = process.env): () => Promise<Helm> {
  const mirror = chartMirrorOf(env);
  let found: Promise<Helm> | undefined;
  const locate = async (): Promise<Helm> => {
    const binary = env.THREEPORT_HELM?.trim() || onPath('helm', env.PATH) || (await installTools(['helm'])).helm;
    if (!binary) throw new Error('no helm: set THREEPORT_HELM to a helm v3 binary, or put helm on the PATH');
    return new Helm({ binary, home: join(cacheRoot(), 'helm-home'), ...(mirror && { mirror }) });
  };
  return () =>
    (found ??= locate().catch((error: unknown) => {
      found = undefined; // looked for again on the next reconcile
      throw error;
    }));
}

function onPath(name: string, path = ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
