/**
 * Restarting the workloads that read a secret whose values changed — only those whose owner asked
 * for it with the annotation `secrets.threeport.io/restart-on-change` ("true", or the names of the
 * secrets that should restart it, comma-separated), never others. The restart is what
 * `kubectl rollout restart` does: a pod-template annotation, written by a field manager of its
 * own, so the workload controller's applies leave it alone.
 */
import type { Manifest } from '../../model/manifest.ts';
import type { KubernetesClient } from '../../platform/kubernetes/index.ts';

export const RESTART_ON_CHANGE = 'secrets.threeport.io/restart-on-change';
export const RESTARTED_AT = 'secrets.threeport.io/restarted-at';
const FIELD_MANAGER = 'threeport-secret-restart';

const RESTARTABLE = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
] as const;

type PodSpec = { containers?: Container[]; initContainers?: Container[]; volumes?: { secret?: { secretName?: string }; projected?: { sources?: { secret?: { name?: string } }[] } }[] };
type Container = { env?: { valueFrom?: { secretKeyRef?: { name?: string } } }[]; envFrom?: { secretRef?: { name?: string } }[] };

const podSpecOf = (manifest: Manifest): PodSpec | undefined => ((manifest.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec);

/** Whether the pod template reads the Secret (an env var, envFrom, or a volume). */
function readsSecret(manifest: Manifest, secretName: string): boolean {
  const spec = podSpecOf(manifest);
  if (!spec) return false;
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  return (
    containers.some((container) => container.env?.some((variable) => variable.valueFrom?.secretKeyRef?.name === secretName) || container.envFrom?.some((source) => source.secretRef?.name === secretName)) ||
    (spec.volumes ?? []).some((volume) => volume.secret?.secretName === secretName || volume.projected?.sources?.some((source) => source.secret?.name === secretName))
  );
}

/** Whether the workload's owner asked for restarts when this secret changes. */
function wantsRestart(manifest: Manifest, secretName: string): boolean {
  const asked = manifest.metadata.annotations?.[RESTART_ON_CHANGE]?.trim();
  if (!asked) return false;
  if (asked === 'true') return true;
  return asked.split(',').some((name) => name.trim() === secretName);
}

/** Restarts every workload in the namespace that reads the Secret and asked to be restarted; resolves with their descriptions. */
export async function restartReaders(cluster: KubernetesClient, namespace: string, secretName: string, signal: AbortSignal): Promise<string[]> {
  const restarted: string[] = [];
  const at = new Date().toISOString();
  for (const [apiVersion, kind] of RESTARTABLE) {
    const { items } = await cluster.list(apiVersion, kind, { namespace, signal });
    for (const workload of items.filter((item) => wantsRestart(item, secretName) && readsSecret(item, secretName))) {
      await cluster.apply(
        { apiVersion, kind, metadata: { name: workload.metadata.name, namespace }, spec: { template: { metadata: { annotations: { [RESTARTED_AT]: `${at} (secret ${secretName} changed)` } } } } },
        { fieldManager: FIELD_MANAGER, force: true, signal },
      );
      restarted.push(`${kind} ${workload.metadata.name}`);
    }
  }
  return restarted;
}
