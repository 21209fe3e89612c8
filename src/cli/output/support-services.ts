/**
 * The support services threeport installed on runtimes (the Helm workload instances of its own
 * `threeport-<service>` definitions), for `tptctl get support-services` and `describe
 * kubernetes-runtime`.
 */
import type { ApiClient } from '../../client/api-client.ts';
import { supportServiceOf, supportServices } from '../../model/support-services.ts';
import { objectStatus } from './get-table.ts';

export interface SupportServiceRow {
  service: string;
  runtime: string;
  chart: string;
  namespace: string;
  status: string;
  createdAt: string;
}

export async function supportServiceRows(client: ApiClient, runtimeId?: number): Promise<SupportServiceRow[]> {
  const definitions = (await client.kind('HelmWorkloadDefinition').listAll()).filter((definition) => supportServiceOf(String(definition.Name)));
  const rows: SupportServiceRow[] = [];
  const runtimes = new Map<number, string>();
  const runtimeName = async (id: number): Promise<string> => {
    if (!runtimes.has(id)) runtimes.set(id, String((await client.kind('KubernetesRuntimeInstance').get(id).catch(() => undefined))?.Name ?? `<missing ID ${id}>`));
    return runtimes.get(id)!;
  };
  for (const definition of definitions) {
    const service = supportServiceOf(String(definition.Name))!;
    const filter = { helmworkloaddefinitionid: definition.ID, ...(runtimeId !== undefined && { kubernetesruntimeinstanceid: runtimeId }) };
    for (const instance of await client.kind('HelmWorkloadInstance').listAll(filter)) {
      rows.push({
        service,
        runtime: await runtimeName(Number(instance.KubernetesRuntimeInstanceID)),
        chart: `${String(definition.Chart)} ${String(definition.ChartVersion ?? '')}`.trim(),
        namespace: String(instance.ReleaseNamespace ?? supportServices[service].namespace),
        status: objectStatus(instance),
        createdAt: String(instance.CreatedAt),
      });
    }
  }
  return rows.sort((a, b) => a.runtime.localeCompare(b.runtime) || a.service.localeCompare(b.service));
}
