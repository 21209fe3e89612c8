/**
 * Delivery: one build through one policy's environments, in order. In each environment the
 * build's instances are recorded with what they ran before (Progress, written before any pin, so
 * a crash half-way can still roll back), pinned to repository:tag@digest, and watched until
 * every one is Healthy on it. Then the environment's gate — soak, approval, window — must pass
 * before the next environment starts; the last one Healthy completes the delivery.
 *
 * An environment that is not Healthy on the build within the policy's RolloutTimeoutSeconds, or
 * turns Unhealthy while it waits at its gate, is rolled back to what it ran before, and the
 * delivery stops there with a Warning event and a Status naming the environment and why. A newer
 * build of the repository through the same policy supersedes this one where it stands.
 */
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { parseEnvironments, windowState, type Environment } from '../../model/delivery-policy.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { DELIVERED } from './image-build.ts';
import { healthOf, instancesUsing, membersOf, pin, pinOf, type Member, type MemberHealth } from './members.ts';

type Delivery = ObjectOf<'Delivery'>;
type ImageBuild = ObjectOf<'ImageBuild'>;

export type EnvironmentState = 'RollingOut' | 'Soaking' | 'AwaitingApproval' | 'WaitingForWindow' | 'Passed' | 'Healthy' | 'RolledBack' | 'Superseded';

export interface EnvironmentProgress {
  Name: string;
  State: EnvironmentState;
  Message?: string;
  StartedAt: string;
  HealthyAt?: string;
  PassedAt?: string;
  Instances: Member[];
}

export type Phase = 'RollingOut' | 'Soaking' | 'AwaitingApproval' | 'WaitingForWindow' | 'Complete' | 'RolledBack' | 'Superseded';
const FINISHED: ReadonlySet<string> = new Set<Phase>(['Complete', 'RolledBack', 'Superseded']);

export interface DeliverySettings {
  /** How often an environment rolling out, or waiting at its gate, is looked at. @default 1000 */
  pollIntervalMs?: number;
}

/** What the build is pinned as: by digest when CI reported one. */
export const referenceOf = (build: Pick<ImageBuild, 'Repository' | 'Tag' | 'Digest'>): string => `${build.Repository}:${build.Tag}${build.Digest ? `@${build.Digest}` : ''}`;

export function deliveryReconciler(settings: DeliverySettings = {}): Reconciler<Delivery> {
  const pollMs = settings.pollIntervalMs ?? 1000;
  return {
    kind: 'Delivery',
    statusCondition: DELIVERED,
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined; // instances keep what they run
      if (FINISHED.has(String(context.object.Phase ?? ''))) return undefined;
      return new Run(context, pollMs).advance();
    },
  };
}

type Trouble = Exclude<MemberHealth, { state: 'healthy' }>;
const troublesOf = (health: ReadonlyMap<Member, MemberHealth>): Trouble[] => [...health.values()].filter((result): result is Trouble => result.state !== 'healthy');

/** One reconcile of a delivery: reads the build, the policy and the instances once, and moves as far as it can. */
class Run {
  readonly #context: ReconcileContext<Delivery>;
  readonly #pollMs: number;
  #progress: EnvironmentProgress[];

  constructor(context: ReconcileContext<Delivery>, pollMs: number) {
    this.#context = context;
    this.#pollMs = pollMs;
    this.#progress = structuredClone((context.object.Progress ?? []) as EnvironmentProgress[]);
  }

  async advance(): Promise<ReconcileOutcome> {
    const api = this.#context.client;
    const delivery = this.#context.object;
    const build = await api.kind('ImageBuild').get(delivery.ImageBuildID);
    const policy = await api.kind('DeliveryPolicy').get(delivery.DeliveryPolicyID);
    const environments = parseEnvironments(policy.Environments);
    if ('problem' in environments) throw new TerminalError(`delivery policy ${policy.Name}: ${environments.problem}`);
    const image = referenceOf(build);
    if (delivery.Image !== image) await this.#context.update({ Image: image, Repository: String(build.CanonicalRepository) });

    const newer = (await api.kind('Delivery').listAll({ deliverypolicyid: policy.ID, repository: String(build.CanonicalRepository) })).find((other) => Number(other.ID) > delivery.ID);
    if (newer) return this.#finish('Superseded', `delivery ${newer.Name} of a newer build of ${build.Repository} took over`, 'Normal');

    const timeoutMs = Number(policy.RolloutTimeoutSeconds ?? 600) * 1000;
    for (;;) {
      let entry = this.#progress.find((candidate) => candidate.State !== 'Passed');
      if (!entry) {
        const environment = environments[this.#progress.length];
        if (!environment) return this.#finish('Complete', `${build.Repository}:${build.Tag} runs in every environment`, 'Normal');
        entry = await this.#start(environment, build, image);
        if (entry.State === 'Passed') continue;
      }
      const environment = environments.find((candidate) => candidate.Name === entry.Name);
      if (!environment) return this.#rollBack(entry, `environment ${entry.Name} was removed from delivery policy ${policy.Name}`, build);
      const using = await instancesUsing(api, build.Repository);
      const health = new Map<Member, MemberHealth>();
      for (const member of entry.Instances) {
        const instance = using.get(`${member.Kind}/${member.Name}`);
        if (!instance) continue; // deleted since, or no longer running the repository: nothing to deliver to
        if (entry.State === 'RollingOut' && pinOf(instance, build.Repository) !== image) {
          await pin(api, member, build.Repository, image);
          health.set(member, { state: 'pending', why: `${member.Name}: pinned just now` });
        } else {
          health.set(member, healthOf(instance, build.Repository, image));
        }
      }
      const outcome = entry.State === 'RollingOut' ? await this.#rollingOut(entry, health, timeoutMs, build) : await this.#atGate(entry, environment, health, build);
      if (outcome !== 'passed') return outcome;
      if (environments[environments.length - 1] === environment) return this.#finish('Complete', `${build.Repository}:${build.Tag} runs Healthy in every environment`, 'Normal');
    }
  }

  /** Records the environment's instances and what they run now, before pinning any of them. */
  async #start(environment: Environment, build: ImageBuild, image: string): Promise<EnvironmentProgress> {
    const members = membersOf(environment, await instancesUsing(this.#context.client, build.Repository));
    const now = new Date().toISOString();
    const entry: EnvironmentProgress = {
      Name: environment.Name,
      State: members.length > 0 ? 'RollingOut' : 'Passed',
      StartedAt: now,
      Instances: members.map((member) => ({ Kind: member.Kind, ID: Number(member.ID), Name: String(member.Name), Previous: pinOf(member, build.Repository) })),
      ...(members.length === 0 && { PassedAt: now, Message: `no instance here runs ${build.Repository}` }),
    };
    this.#progress.push(entry);
    await this.#save({ Phase: 'RollingOut', Environment: environment.Name });
    if (members.length > 0) await this.#context.recordEvent({ reason: 'RollingOut', note: `${environment.Name}: ${members.length} instance(s) pinned to ${image}` });
    return entry;
  }

  async #rollingOut(entry: EnvironmentProgress, health: ReadonlyMap<Member, MemberHealth>, timeoutMs: number, build: ImageBuild): Promise<ReconcileOutcome | 'passed'> {
    const waiting = troublesOf(health);
    const failed = waiting.find((result) => result.state === 'failed');
    if (failed) return this.#rollBack(entry, failed.why, build);
    if (waiting.length === 0) {
      entry.State = 'Healthy';
      entry.HealthyAt = new Date().toISOString();
      await this.#save({});
      await this.#context.recordEvent({ reason: 'Healthy', note: `${entry.Name}: ${health.size} instance(s) Healthy on ${build.Repository}:${build.Tag}` });
      return 'passed';
    }
    const { why } = waiting[0]!;
    if (Date.now() - Date.parse(entry.StartedAt) > timeoutMs) return this.#rollBack(entry, `not Healthy within ${timeoutMs / 1000}s: ${why}`, build);
    return { waiting: `${entry.Name}: ${health.size - waiting.length}/${health.size} instance(s) Healthy on ${build.Tag}; ${why}`, requeueAfterMs: this.#pollMs };
  }

  /** The environment is Healthy on the build: it must stay so while its gate is not passed. */
  async #atGate(entry: EnvironmentProgress, environment: Environment, health: ReadonlyMap<Member, MemberHealth>, build: ImageBuild): Promise<ReconcileOutcome | 'passed'> {
    const broken = troublesOf(health).find((result) => result.state === 'failed' || result.state === 'unhealthy');
    if (broken) return this.#rollBack(entry, `turned ${broken.state === 'unhealthy' ? 'Unhealthy' : 'bad'} after the rollout: ${broken.why}`, build);
    const gate = environment.Gate ?? {};
    const healthyFor = Date.now() - Date.parse(entry.HealthyAt ?? entry.StartedAt);
    const soakMs = (gate.SoakSeconds ?? 0) * 1000;
    if (healthyFor < soakMs) {
      // Said once, not counted up: a status that changes every look would be a revision every look.
      const until = new Date(Date.parse(entry.HealthyAt ?? entry.StartedAt) + soakMs).toISOString();
      await this.#enter(entry, 'Soaking', `must stay Healthy until ${until} (${gate.SoakSeconds}s)`);
      return { waiting: `${entry.Name} runs ${build.Tag} Healthy and soaks until ${until}`, requeueAfterMs: Math.min(soakMs - healthyFor, this.#pollMs * 5) };
    }
    const approved = ((this.#context.object.Approvals ?? []) as { Environment: string }[]).some((approval) => approval.Environment === entry.Name);
    if (gate.Approval && !approved) {
      const command = `tptctl approve ${this.#context.object.Name}`;
      if (entry.State !== 'AwaitingApproval') await this.#context.recordEvent({ reason: 'AwaitingApproval', note: `${entry.Name} runs ${build.Tag} Healthy; promotion waits for approval (${command})` });
      await this.#enter(entry, 'AwaitingApproval', `waits for approval: ${command}`);
      return { waiting: `${entry.Name} runs ${build.Tag} Healthy and waits for approval: ${command}`, requeueAfterMs: this.#pollMs * 10 };
    }
    if (gate.Window) {
      const window = windowState(gate.Window, new Date());
      if (!window.open) {
        await this.#enter(entry, 'WaitingForWindow', `the promotion window opens at ${window.opensAt.toISOString()}`);
        return { waiting: `${entry.Name} waits for its promotion window (opens ${window.opensAt.toISOString()})`, requeueAfterMs: Math.min(window.opensAt.getTime() - Date.now(), this.#pollMs * 30) };
      }
    }
    entry.State = 'Passed';
    entry.PassedAt = new Date().toISOString();
    delete entry.Message;
    await this.#save({});
    await this.#context.recordEvent({ reason: 'Promoted', note: `${entry.Name} passed its gate with ${build.Tag}` });
    return 'passed';
  }

  async #enter(entry: EnvironmentProgress, state: EnvironmentState & Phase, message: string): Promise<void> {
    if (entry.State === state && entry.Message === message && this.#context.object.Phase === state) return;
    entry.State = state;
    entry.Message = message;
    await this.#save({ Phase: state });
  }

  /** Every instance of the environment back to what it ran before; the delivery stops here. */
  async #rollBack(entry: EnvironmentProgress, why: string, build: ImageBuild): Promise<ReconcileOutcome> {
    for (const member of entry.Instances) await pin(this.#context.client, member, build.Repository, member.Previous);
    entry.State = 'RolledBack';
    entry.Message = why;
    const previous = [...new Set(entry.Instances.map((member) => member.Previous ?? "the definition's image"))].join(', ');
    return this.#finish('RolledBack', `${entry.Name} failed with ${build.Tag} and was rolled back to ${previous}: ${why}; promotion stopped`, 'Warning');
  }

  async #finish(phase: Phase & ('Complete' | 'RolledBack' | 'Superseded'), message: string, type: 'Normal' | 'Warning'): Promise<ReconcileOutcome> {
    await this.#save({ Phase: phase });
    await this.#context.recordEvent({ reason: phase, note: message, type });
    await this.#context.setCondition({ Type: DELIVERED, Status: phase === 'Complete' ? 'True' : 'False', Reason: phase, Message: message });
    return undefined;
  }

  async #save(fields: Partial<Delivery>): Promise<void> {
    await this.#context.update({ ...fields, Progress: structuredClone(this.#progress) });
  }
}
