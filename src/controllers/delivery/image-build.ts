/**
 * ImageBuild: a build CI reported starts one Delivery per delivery policy whose environments
 * hold instances running its repository. Instances no policy names are left as they are, and
 * the build's status names them, so a missing policy is seen, not guessed.
 */
import { isDuplicate, type ApiClient } from '../../client/api-client.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { Reconciler } from '../../controller/reconciler.ts';
import { parseEnvironments } from '../../model/delivery-policy.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { instancesUsing, membersOf, withTierMembers } from './members.ts';

type ImageBuild = ObjectOf<'ImageBuild'>;
type DeliveryPolicy = ObjectOf<'DeliveryPolicy'>;

export const DELIVERED = 'Delivered';

export function imageBuildReconciler(): Reconciler<ImageBuild> {
  return {
    kind: 'ImageBuild',
    statusCondition: DELIVERED,
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined; // its deliveries go with it
      const build = context.object;
      const api = context.client;
      const using = await instancesUsing(api, build.Repository);
      if (using.size === 0) {
        await context.setCondition({ Type: DELIVERED, Status: 'False', Reason: 'NotUsed', Message: `no workload or Helm workload runs ${build.Repository}` });
        return undefined;
      }
      const uncovered = new Set(using.keys());
      // Which policies name each instance: one that two policies name would get two deliveries with their own gates.
      const policiesOf = new Map<string, DeliveryPolicy[]>();
      for (const policy of await api.kind('DeliveryPolicy').listAll()) {
        const parsed = parseEnvironments(policy.Environments);
        if ('problem' in parsed) continue; // the API refuses such policies; one stored before that rule is skipped
        const environments = await withTierMembers(api, parsed);
        for (const member of environments.flatMap((environment) => membersOf(environment, using))) {
          const key = `${member.Kind}/${String(member.Name)}`;
          policiesOf.set(key, [...(policiesOf.get(key) ?? []), policy]);
          uncovered.delete(key);
        }
      }
      const contested = [...policiesOf].filter(([, policies]) => policies.length > 1);
      if (contested.length > 0) {
        const [key, policies] = contested[0]!;
        throw new TerminalError(`${key.replace('/', ' ')} is in delivery policies ${policies.map((policy) => policy.Name).join(' and ')}: an instance can be delivered to by one policy; remove it from the others (the build is looked at again at the next resync)`);
      }
      const started: string[] = [];
      for (const policy of new Map([...policiesOf.values()].flat().map((policy) => [policy.ID, policy])).values()) started.push(await startDelivery(api, build, policy));
      const left = [...uncovered].map((key) => key.replace(/^WorkloadInstance\//, 'workload instance ').replace(/^HelmWorkloadInstance\//, 'helm workload instance '));
      const leftNote = left.length > 0 ? `; not in any delivery policy, left as they are: ${left.join(', ')}` : '';
      await context.setCondition(
        started.length > 0
          ? { Type: DELIVERED, Status: 'True', Reason: 'Delivering', Message: `delivery ${started.join(', ')}${leftNote}` }
          : { Type: DELIVERED, Status: 'False', Reason: 'NoPolicy', Message: `no delivery policy names an instance running ${build.Repository}${leftNote}` },
      );
      return undefined;
    },
  };
}

/** The build's delivery through the policy, made once (the database keeps one per build and policy); returns its name. */
async function startDelivery(api: ApiClient, build: ImageBuild, policy: DeliveryPolicy): Promise<string> {
  const deliveries = api.kind('Delivery');
  const existing = await deliveries.listAll({ imagebuildid: build.ID, deliverypolicyid: policy.ID });
  if (existing[0]) return String(existing[0].Name);
  const base = `${String(policy.Name)}-${build.Tag.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 200);
  for (const name of [base, `${base}-${build.ID}`]) {
    try {
      return String((await deliveries.create({ Name: name, ImageBuildID: build.ID, DeliveryPolicyID: policy.ID })).Name);
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      const made = await deliveries.listAll({ imagebuildid: build.ID, deliverypolicyid: policy.ID });
      if (made[0]) return String(made[0].Name); // another replica made it
    }
  }
  throw new Error(`delivery names ${base} and ${base}-${build.ID} are both taken by other deliveries`);
}
