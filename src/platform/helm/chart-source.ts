/**
 * Where a chart comes from, and where it is fetched from once a mirror is configured: an HTTP
 * chart repository (`https://charts.example.com`, the chart by name in its index) or an OCI
 * registry (`oci://registry.example.com/charts`, the chart a repository below it).
 */

export interface ChartSource {
  /** The chart repository's URL: http(s):// or oci://. */
  repository: string;
  chart: string;
  /** A version or range; the newest when absent. */
  version?: string;
}

/** One place every chart is fetched from (air-gapped clusters), with per-repository exceptions. */
export interface ChartMirror {
  /** Where charts of repositories without a mapping are fetched: http(s):// or oci://. */
  url?: string;
  /** Repository URL → the URL to fetch its charts from instead. */
  mappings?: Record<string, string>;
}

export class ChartSourceError extends Error {
  override name = 'ChartSourceError';
}

const normalized = (url: string): string => url.trim().replace(/\/+$/, '');

/** Checks a repository URL: a clear error for anything helm could not fetch from. */
export function checkRepository(url: string, what = 'chart repository'): string {
  const value = normalized(url);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ChartSourceError(`invalid ${what} "${url}": expected an http(s):// chart repository or an oci:// registry`);
  }
  if (!['http:', 'https:', 'oci:'].includes(parsed.protocol)) throw new ChartSourceError(`invalid ${what} "${url}": expected an http(s):// chart repository or an oci:// registry`);
  return value;
}

/** The source after the mirror: a mapping of its repository first, then the mirror's URL. */
export function mirrored(source: ChartSource, mirror: ChartMirror | undefined): ChartSource {
  const repository = checkRepository(source.repository);
  if (!mirror) return { ...source, repository };
  const mapped = Object.entries(mirror.mappings ?? {}).find(([from]) => normalized(from) === repository)?.[1];
  const target = mapped ?? mirror.url;
  return target ? { ...source, repository: checkRepository(target, 'chart mirror') } : { ...source, repository };
}

/** helm's arguments naming the chart: `chart --repo URL` or `oci://…/chart`, and `--version`. */
export function chartArguments(source: ChartSource): string[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(source.chart)) throw new ChartSourceError(`invalid chart name "${source.chart}"`);
  const version = source.version ? ['--version', source.version] : [];
  const repository = checkRepository(source.repository);
  if (repository.startsWith('oci://')) return [`${repository}/${source.chart}`, ...version];
  return [source.chart, '--repo', repository, ...version];
}
