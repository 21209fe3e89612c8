/**
 * The ImageUse records of one user (a workload definition, a Helm workload definition or
 * instance): the repositories it runs, kept in step with it, so a new build finds its users with
 * one indexed query instead of reading every definition.
 */
import { isNotFound, type ApiClient } from '../../client/api-client.ts';

export type ImageUser = { WorkloadDefinitionID: number } | { HelmWorkloadDefinitionID: number } | { HelmWorkloadInstanceID: number };

export async function recordImageUses(client: ApiClient, user: ImageUser, repositories: readonly string[]): Promise<void> {
  const uses = client.kind('ImageUse');
  const [field, id] = Object.entries(user)[0] as [string, number];
  const key = field.toLowerCase();
  const existing = await uses.listAll({ [key]: id });
  const wanted = new Set(repositories);
  for (const use of existing) {
    if (wanted.delete(String(use.Repository))) continue;
    await uses.delete(Number(use.ID)).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  }
  for (const repository of wanted) await uses.apply({ repository, [key]: id }, { Repository: repository, ...user });
}
