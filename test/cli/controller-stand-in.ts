/**
 * Where no controller runs (an API-only control plane), deletions of reconcilable kinds stay scheduled.
 * Where a test needs them to finish, this stands in for the controllers through the API only, as
 * a controller would: it confirms every scheduled deletion and deletes the object again.
 */
import type { ApiClient } from '../../src/client/api-client.ts';
import { registry } from '../../src/model/registry.ts';

export function confirmDeletions(client: ApiClient, options: { intervalMs?: number; except?: readonly string[] } = {}): { stop(): Promise<void> } {
  const { intervalMs = 200, except = [] } = options;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const kind of registry.reconcilable.filter((candidate) => candidate.routed && !except.includes(candidate.name))) {
        const scheduled = (await client.kind(kind.name).listAll().catch(() => [])).filter((object) => object.DeletionScheduled);
        for (const object of scheduled) {
          await client
            .kind(kind.name)
            .update(object.ID as number, { DeletionConfirmed: new Date().toISOString() })
            .then(() => client.kind(kind.name).delete(object.ID as number))
            .catch(() => undefined);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Marks one object reconciled, as its controller would when done. */
export async function markReconciled(client: ApiClient, kind: string, name: string): Promise<void> {
  const object = await client.kind(kind).findByName(name);
  if (!object) throw new Error(`${kind} ${name} not found`);
  await client.kind(kind).update(object.ID as number, { Reconciled: true });
}

/**
 * Marks a workload instance reconciled and reports its health, as its controller and the agent
 * would: the Reconciled and Healthy conditions and the Status line they give.
 */
export async function reportHealth(client: ApiClient, id: number, health: { reason: 'Healthy' | 'Unhealthy' | 'Down'; message: string }): Promise<void> {
  const object = await client.kind('WorkloadInstance').get(id);
  const now = new Date().toISOString();
  const generation = Number(object.Generation ?? 1);
  await client.kind('WorkloadInstance').update(id, {
    Reconciled: true,
    ObservedGeneration: generation,
    Conditions: [
      { Type: 'Reconciled', Status: 'True', Reason: 'Reconciled', LastTransitionTime: now, ObservedGeneration: generation },
      { Type: 'Healthy', Status: health.reason === 'Healthy' ? 'True' : 'False', Reason: health.reason, Message: health.message, LastTransitionTime: now },
    ],
    Status: `${health.reason}: ${health.message}`,
  });
}
