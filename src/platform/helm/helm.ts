/**
 * The real helm (v3), run for one cluster at a time: install-or-upgrade a release (rolled back
 * when it fails), uninstall it, read what it made. Every run has its own kubeconfig file (0600,
 * removed after) built from the runtime's connection, helm's state in threeport's own folder (not
 * the user's ~/.config/helm), a time limit and the caller's signal; a failure is helm's own
 * message, not a stack.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { sourcePath } from '../../install-root.ts';
import type { Manifest } from '../../model/manifest.ts';
import { resourceKeyOf } from '../../model/resource-key.ts';
import type { ClusterConnection } from '../kubernetes/connections.ts';
import { BinaryRunError, runBinary } from '../run-binary.ts';
import { chartArguments, mirrored, type ChartMirror, type ChartSource } from './chart-source.ts';
import type { Values } from './values.ts';

export class HelmError extends Error {
  override name = 'HelmError';
  /** What helm printed last (its reason), already in the message. */
  readonly output: string;

  constructor(message: string, output = '') {
    super(message);
    this.output = output;
  }
}

export interface HelmOptions {
  /** The helm binary. */
  binary: string;
  /** helm's config, cache and data (repositories, downloaded charts) live here. */
  home: string;
  mirror?: ChartMirror;
  /** Per helm run unless given per call. @default 300000 */
  timeoutMs?: number;
}

export interface ReleaseSpec {
  name: string;
  namespace: string;
  source: ChartSource;
  values: Values;
  /** Put on every object the release makes (by helm's post-renderer). */
  labels: Record<string, string>;
  /** Objects the release makes beside the chart's (added by the post-renderer: installed, upgraded and uninstalled with it). */
  additional?: readonly Manifest[];
}

export interface RunControl {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ApplyControl extends RunControl {
  /** Shown what an existing release of that name made, before anything changes; throws to refuse it (a release someone else installed). */
  accept?: (made: readonly Manifest[]) => void;
}

export interface ReleaseState {
  name: string;
  namespace: string;
  revision: number;
  /** helm's status word: deployed, failed, pending-install, … */
  status: string;
  chart: string;
}

export interface AppliedRelease extends ReleaseState {
  /** Whether this apply made a new revision. */
  changed: boolean;
  /** What the release's current revision made (as rendered, labels included). */
  manifests: Manifest[];
}

const manifestsIn = (yaml: string): Manifest[] =>
  parseAllDocuments(yaml)
    .map((document) => document.toJS() as unknown)
    .filter((object): object is Manifest => typeof object === 'object' && object !== null && typeof (object as Manifest).kind === 'string');

const DEFAULT_TIMEOUT_MS = 300_000;
/** How much longer than helm's own --timeout a run may take before it is killed. */
const KILL_MARGIN_MS = 30_000;
const PASSED_ENV = /^(PATH|LANG|LC_[A-Z]+|TZ|TMPDIR|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|(https?|no)_proxy|AWS_[A-Z_]+|GOOGLE_[A-Z_]+|CLOUDSDK_[A-Z_]+|AZURE_[A-Z_]+)$/;

const seconds = (milliseconds: number): string => `${Math.max(1, Math.ceil(milliseconds / 1000))}s`;

export class Helm {
  readonly #o: HelmOptions;

  constructor(options: HelmOptions) {
    this.#o = options;
  }

  /**
   * Installs the release, or upgrades it to `spec`; waits until its resources are ready, and on
   * failure rolls back (an install is uninstalled). A release already at `spec` (same chart and
   * version, same values; any version of the chart when the spec names none) is left as it is: no
   * new revision for a reconcile that changes nothing.
   * A release left pending by a helm run that died (a crash, a kill) is recovered first: an
   * install uninstalled, an upgrade or rollback rolled back to the last good revision.
   */
  async apply(cluster: ClusterConnection, spec: ReleaseSpec, control: ApplyControl = {}): Promise<AppliedRelease> {
    const source = mirrored(spec.source, this.#o.mirror);
    const timeoutMs = control.timeoutMs ?? this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const before = await this.release(cluster, spec.name, spec.namespace, control);
    // Read once: what `accept` looks at, what tells whether the release is at `spec`, and what it made.
    const made = before ? await this.manifests(cluster, spec.name, spec.namespace, control) : [];
    if (before) control.accept?.(made);
    if (before?.status.startsWith('pending-')) await this.#recover(cluster, before, { ...control, timeoutMs });
    else if (before?.status === 'deployed' && (await this.#isAt(cluster, before, made, spec, control))) return { ...before, changed: false, manifests: made };
    const scratch = mkdtempSync(join(tmpdir(), 'threeport-helm-'));
    try {
      const valuesFile = join(scratch, 'values.yaml');
      writeFileSync(valuesFile, stringify(spec.values), { mode: 0o600 });
      const labels = Object.entries(spec.labels).flatMap(([key, value]) => ['--post-renderer-args', '--label', '--post-renderer-args', `${key}=${value}`]);
      const additional: string[] = [];
      if (spec.additional?.length) {
        const additionalFile = join(scratch, 'additional.yaml');
        writeFileSync(additionalFile, spec.additional.map((manifest) => stringify(asAdditional(manifest))).join('---\n'), { mode: 0o600 });
        additional.push('--post-renderer-args', '--append', '--post-renderer-args', additionalFile);
      }
      // helm waits up to --timeout for the release, then as long again for its rollback: it is
      // killed only after both (a kill mid-rollback would leave the release pending).
      const out = await this.#run(cluster, [
        'upgrade', spec.name, ...chartArguments(source),
        '--install', '--namespace', spec.namespace, '--values', valuesFile,
        '--atomic', '--wait', '--timeout', seconds(timeoutMs),
        '--post-renderer', process.execPath, '--post-renderer-args', sourcePath('platform/helm/post-render.ts'), ...additional, ...labels,
        '--output', 'json',
      ], { ...control, timeoutMs: timeoutMs * 2 + KILL_MARGIN_MS });
      // The release as helm just recorded it, manifest included: no second run to read it back.
      const release = JSON.parse(out) as { name: string; namespace: string; version: number; info?: { status?: string }; chart?: { metadata?: { name?: string; version?: string } }; manifest?: string };
      return {
        name: release.name,
        namespace: release.namespace,
        revision: Number(release.version),
        status: String(release.info?.status ?? 'deployed'),
        chart: `${release.chart?.metadata?.name ?? spec.source.chart}-${release.chart?.metadata?.version ?? ''}`,
        changed: true,
        manifests: manifestsIn(release.manifest ?? ''),
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Whether the deployed release is `spec`'s chart, version, values and additional resources. */
  async #isAt(cluster: ClusterConnection, release: ReleaseState, made: readonly Manifest[], spec: ReleaseSpec, control: RunControl): Promise<boolean> {
    // Without a version the newest was taken when it was installed or last changed: a reconcile that
    // changes nothing does not upgrade to a newer one (pin ChartVersion to choose when).
    const chartMatches = spec.source.version ? release.chart === `${spec.source.chart}-${spec.source.version}` : release.chart.startsWith(`${spec.source.chart}-`);
    if (!chartMatches) return false;
    const applied = JSON.parse((await this.#run(cluster, ['get', 'values', release.name, '--namespace', release.namespace, '--output', 'json'], control)) || 'null') as unknown;
    if (!isDeepStrictEqual(applied ?? {}, JSON.parse(JSON.stringify(spec.values)) as unknown)) return false;
    const madeAdditional = made.filter((manifest) => manifest.metadata.annotations?.[ADDITIONAL_ANNOTATION] !== undefined).map(withoutLabels);
    const wanted = (spec.additional ?? []).map((manifest) => withoutLabels(asAdditional(manifest)));
    return isDeepStrictEqual(sortedByIdentity(madeAdditional), sortedByIdentity(JSON.parse(JSON.stringify(wanted)) as Manifest[]));
  }

  async #recover(cluster: ClusterConnection, release: ReleaseState, control: RunControl & { timeoutMs: number }): Promise<void> {
    const args = release.status === 'pending-install' ? ['uninstall', release.name, '--namespace', release.namespace, '--wait'] : ['rollback', release.name, '--namespace', release.namespace, '--wait'];
    await this.#run(cluster, [...args, '--timeout', seconds(control.timeoutMs)], { ...control, timeoutMs: control.timeoutMs + KILL_MARGIN_MS }).catch((error: unknown) => {
      throw new HelmError(`release ${release.name} was left ${release.status} by an earlier helm run, and could not be recovered: ${(error as Error).message}`);
    });
  }

  /** The release as helm records it, or undefined when there is none. */
  async release(cluster: ClusterConnection, name: string, namespace: string, control: RunControl = {}): Promise<ReleaseState | undefined> {
    const out = await this.#run(cluster, ['list', '--namespace', namespace, '--all', '--filter', `^${escapeRegExp(name)}$`, '--output', 'json'], control);
    const releases = JSON.parse(out || '[]') as { name: string; namespace: string; revision: string; status: string; chart: string }[];
    const found = releases.find((release) => release.name === name);
    return found && { name: found.name, namespace: found.namespace, revision: Number(found.revision), status: found.status, chart: found.chart };
  }

  /** The objects the release's current revision made (as rendered, labels included). */
  async manifests(cluster: ClusterConnection, name: string, namespace: string, control: RunControl = {}): Promise<Manifest[]> {
    return manifestsIn(await this.#run(cluster, ['get', 'manifest', name, '--namespace', namespace], control));
  }

  /** Uninstalls the release and waits for its resources to go; a release already gone is no error. */
  async uninstall(cluster: ClusterConnection, name: string, namespace: string, control: RunControl = {}): Promise<'uninstalled' | 'absent'> {
    if (!(await this.release(cluster, name, namespace, control))) return 'absent';
    const timeoutMs = control.timeoutMs ?? this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    await this.#run(cluster, ['uninstall', name, '--namespace', namespace, '--wait', '--timeout', seconds(timeoutMs)], { ...control, timeoutMs: timeoutMs + KILL_MARGIN_MS });
    return 'uninstalled';
  }

  /** The releases in `namespace` (whatever installed them). */
  async releasesIn(cluster: ClusterConnection, namespace: string, control: RunControl = {}): Promise<string[]> {
    const out = await this.#run(cluster, ['list', '--namespace', namespace, '--all', '--output', 'json'], control);
    return (JSON.parse(out || '[]') as { name: string }[]).map((release) => release.name);
  }

  async #run(cluster: ClusterConnection, args: string[], control: RunControl): Promise<string> {
    const scratch = mkdtempSync(join(tmpdir(), 'threeport-helm-run-'));
    try {
      const access = cluster.kubeconfig
        ? ['--kubeconfig', cluster.kubeconfig.path, ...(cluster.kubeconfig.context ? ['--kube-context', cluster.kubeconfig.context] : [])]
        : ['--kubeconfig', writeKubeconfig(scratch, cluster)];
      const { home } = this.#o;
      const env: NodeJS.ProcessEnv = {
        // What helm and a kubeconfig's login plugin (a cloud's CLI) may need — not the database's,
        // the bus's or threeport's own settings and keys.
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => PASSED_ENV.test(key))),
        HOME: home,
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_DATA_HOME: join(home, 'data'),
      };
      return await runHelm(this.#o.binary, [...args, ...access], env, control.timeoutMs ?? this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS, control.signal);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

/** Marks an object as one of the release's additional resources, so a later apply can tell them from the chart's. */
const ADDITIONAL_ANNOTATION = 'control-plane.threeport.io/additional-resource';

function asAdditional(manifest: Manifest): Manifest {
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, [ADDITIONAL_ANNOTATION]: 'true' } } };
}

function withoutLabels(manifest: Manifest): Manifest {
  const { labels: _labels, ...metadata } = manifest.metadata;
  return { ...manifest, metadata };
}

const identityOf = (manifest: Manifest): string => String(resourceKeyOf(manifest));
const sortedByIdentity = (manifests: Manifest[]): Manifest[] => [...manifests].sort((a, b) => identityOf(a).localeCompare(identityOf(b)));

/** A kubeconfig for helm from a runtime's connection (credentials in the file, the file 0600). */
function writeKubeconfig(dir: string, cluster: ClusterConnection): string {
  const base64 = (pem: string): string => Buffer.from(pem).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'runtime', cluster: { server: cluster.server, ...(cluster.caCertificate ? { 'certificate-authority-data': base64(cluster.caCertificate) } : {}) } }],
    users: [{
      name: 'threeport',
      user: {
        ...(cluster.certificate && { 'client-certificate-data': base64(cluster.certificate) }),
        ...(cluster.key && { 'client-key-data': base64(cluster.key) }),
        ...(cluster.token && { token: cluster.token }),
      },
    }],
    contexts: [{ name: 'runtime', context: { cluster: 'runtime', user: 'threeport' } }],
    'current-context': 'runtime',
  };
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs helm; its stdout, or a HelmError with its reason (the `Error:` lines it printed). */
async function runHelm(binary: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
  try {
    return (await runBinary(binary, args, { env, timeoutMs, signal })).stdout;
  } catch (error) {
    if (!(error instanceof BinaryRunError)) throw error;
    const { failure } = error;
    if (failure.kind === 'missing') throw new HelmError(`helm not found at ${binary}`);
    if (failure.kind === 'unstartable') throw new HelmError(`cannot run helm: ${failure.message}`);
    const reason = helmReason(failure.output.stderr);
    if (failure.kind === 'stopped') throw new HelmError(`helm ${args[0]} ${failure.why}${reason ? ` (${reason})` : ''}`, failure.output.stderr);
    throw new HelmError(reason || `helm ${args[0]} exited with ${String(failure.code)}`, failure.output.stderr);
  }
}

/**
 * helm's own words for a failure: from its `Error:` line on (the lines after it are the causes,
 * e.g. `\t* ConfigMap "x" is invalid: …`), in one line, without helm's prefixes.
 */
export function helmReason(stderr: string): string {
  const lines = stderr.split('\n');
  const first = lines.findIndex((line) => line.startsWith('Error: '));
  const reason = first >= 0 ? lines.slice(first) : lines.slice(-3);
  return reason
    .map((line) => line.replace(/^Error: /, '').replace(/^\s*\*\s*/, '').trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 2000);
}

