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
import { mapConcurrently } from '../../concurrency.ts';
import { TerminalError } from '../../controller/errors.ts';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../../controller/reconciler.ts';
import { parseEnvironments, windowState, type Environment } from '../../model/delivery-policy.ts';
import type { ObjectOf } from '../../model/object-types.ts';
import { DELIVERED } from './image-build.ts';
import { healthOf, instancesUsing, membersOf, pin, pinOf, withTierMembers, type Member, type MemberHealth } from './members.ts';

type Delivery = ObjectOf<'Delivery'>;
type ImageBuild = ObjectOf<'ImageBuild'>;

export type EnvironmentState = 'RollingOut' | 'Soaking' | 'AwaitingApproval' | 'WaitingForWindow' | 'Passed' | 'Healthy' | 'RollingBack' | 'RolledBack' | 'Superseded';

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
/** Instances pinned (or restored) at once: an environment of a hundred is rolled out together, not one after another. */
const PIN_CONCURRENCY = 16;
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
    const parsed = parseEnvironments(policy.Environments);
    if ('problem' in parsed) throw new TerminalError(`delivery policy ${policy.Name}: ${parsed.problem}`);
    const environments = await withTierMembers(api, parsed);
    const image = referenceOf(build);
    if (delivery.Image !== image) await this.#context.update({ Image: image, Repository: String(build.CanonicalRepository) });

    // A rollback that started finishes first, whatever else changed since.
    const rollingBack = this.#progress.find((entry) => entry.State === 'RollingBack');
    if (rollingBack) return this.#rollBack(rollingBack, rollingBack.Message ?? 'rolling back', build);

    // Newer by when it was made (IDs come in blocks per API process, not in time order).
    const isNewer = (other: ObjectOf<'Delivery'>): boolean => other.CreatedAt > delivery.CreatedAt || (other.CreatedAt === delivery.CreatedAt && other.ID > delivery.ID);
    const newer = (await api.kind('Delivery').listAll({ deliverypolicyid: policy.ID, repository: String(build.CanonicalRepository) })).find(isNewer);
    if (newer) return this.#stop(`delivery ${newer.Name} of a newer build of ${build.Repository} took over`);

    const timeoutMs = Number(policy.RolloutTimeoutSeconds ?? 600) * 1000;
    for (;;) {
      let entry = this.#progress.find((candidate) => candidate.State !== 'Passed');
      if (!entry) {
        // The next environment by name, in the policy's order: an edit of the policy neither repeats nor skips one.
        const environment = environments.find((candidate) => !this.#progress.some((done) => done.Name === candidate.Name));
        if (!environment) return this.#finish('Complete', `${build.Repository}:${build.Tag} runs Healthy in every environment`, 'Normal');
        entry = await this.#start(environment, build, image);
        if (entry.State === 'Passed') continue;
      }
      const environment = environments.find((candidate) => candidate.Name === entry.Name);
      if (!environment) return this.#rollBack(entry, `environment ${entry.Name} was removed from delivery policy ${policy.Name}`, build);
      const health = await this.#look(entry, build, image);
      if ('stopped' in health) return this.#stop(health.stopped);
      if (entry.State === 'RollingOut') {
        const outcome = await this.#rollingOut(entry, health.members, timeoutMs, build);
        if (outcome !== 'healthy') return outcome;
        continue; // to its gate
      }
      const outcome = await this.#atGate(entry, environment, health.members, build);
      if (outcome !== 'passed') return outcome;
    }
  }

  /**
   * Pins what this delivery has not pinned yet (only where the instance still runs what it ran
   * before), and finds how each instance is doing on the build. An instance pinned to something
   * else since — by a person, a rollback, another delivery — stops the delivery: that writer's
   * choice stands.
   */
  async #look(entry: EnvironmentProgress, build: ImageBuild, image: string): Promise<{ members: Map<Member, MemberHealth> } | { stopped: string }> {
    const api = this.#context.client;
    const unpinned = entry.State === 'RollingOut' ? entry.Instances.filter((member) => !member.Pinned) : [];
    const pinned = await mapConcurrently(unpinned, PIN_CONCURRENCY, (member) => pin(api, member, build.Repository, image, member.Previous));
    let foreign: string | undefined;
    unpinned.forEach((member, index) => {
      const now = pinned[index];
      if (now === image) member.Pinned = true;
      else if (now !== undefined) foreign ??= `${member.Name} was pinned to ${now ?? "its definition's image"} by another writer before this delivery could pin it`;
    });
    if (unpinned.length > 0) await this.#save({});
    if (foreign) return { stopped: foreign };

    const using = await instancesUsing(api, build.Repository);
    const members = new Map<Member, MemberHealth>();
    for (const member of entry.Instances) {
      const instance = using.get(`${member.Kind}/${member.Name}`);
      // Deleted since, or no longer running the repository: nothing to deliver to.
      if (!instance || !member.Pinned) continue;
      const now = pinOf(instance, build.Repository);
      if (now !== image) return { stopped: `${member.Name} was pinned to ${now ?? "its definition's image"} by another writer since; it keeps that` };
      members.set(member, healthOf(instance));
    }
    return { members };
  }

  /** Records the environment's instances and what they run now, before pinning any of them. */
  async #start(environment: Environment, build: ImageBuild, image: string): Promise<EnvironmentProgress> {
    const members = membersOf(environment, await instancesUsing(this.#context.client, build.Repository));
    const unknown = await this.#unknownInstances(environment, new Set(members.map((member) => `${member.Kind}/${String(member.Name)}`)));
    if (unknown.length > 0) await this.#context.recordEvent({ reason: 'UnknownInstance', type: 'Warning', note: `environment ${environment.Name} names ${unknown.join(', ')}, which do not exist: check delivery policy spelling` });
    const now = new Date().toISOString();
    const entry: EnvironmentProgress = {
      Name: environment.Name,
      State: members.length > 0 ? 'RollingOut' : 'Passed',
      StartedAt: now,
      Instances: members.map((member) => ({ Kind: member.Kind, ID: Number(member.ID), Name: String(member.Name), Previous: pinOf(member, build.Repository) })),
      ...(members.length === 0 && { PassedAt: now, Message: `no instance here runs ${build.Repository}${unknown.length > 0 ? ` (${unknown.join(', ')} do not exist)` : ''}` }),
    };
    this.#progress.push(entry);
    await this.#save({ Phase: 'RollingOut', Environment: environment.Name });
    if (members.length > 0) await this.#context.recordEvent({ reason: 'RollingOut', note: `${environment.Name}: pinning ${members.length} instance(s) to ${image}` });
    return entry;
  }

  /** Instance names of the environment no instance has (those found running the repository, `Kind/Name`, are known). */
  async #unknownInstances(environment: Environment, known: ReadonlySet<string>): Promise<string[]> {
    const unknown: string[] = [];
    for (const [kind, names] of [['WorkloadInstance', environment.WorkloadInstances ?? []], ['HelmWorkloadInstance', environment.HelmWorkloadInstances ?? []]] as const) {
      for (const name of names) if (!known.has(`${kind}/${name}`) && !(await this.#context.client.kind(kind).findByName(name))) unknown.push(name);
    }
    return unknown;
  }

  async #rollingOut(entry: EnvironmentProgress, health: ReadonlyMap<Member, MemberHealth>, timeoutMs: number, build: ImageBuild): Promise<ReconcileOutcome | 'healthy'> {
    const waiting = troublesOf(health);
    const failed = waiting.find((result) => result.state === 'failed');
    if (failed) return this.#rollBack(entry, failed.why, build);
    if (waiting.length === 0) {
      entry.State = 'Healthy';
      entry.HealthyAt = new Date().toISOString();
      await this.#save({});
      await this.#context.recordEvent({ reason: 'Healthy', note: `${entry.Name}: ${health.size} instance(s) Healthy on ${build.Repository}:${build.Tag}` });
      return 'healthy';
    }
    const { why } = waiting[0]!;
    if (Date.now() - Date.parse(entry.StartedAt) > timeoutMs) return this.#rollBack(entry, `not Healthy within ${timeoutMs / 1000}s: ${why}`, build);
    return { waiting: `${entry.Name}: ${health.size - waiting.length}/${health.size} instance(s) Healthy on ${build.Tag}; ${why}`, requeueAfterMs: this.#pollMs };
  }

  /** The environment is Healthy on the build: it must stay so while its gate is not passed. */
  async #atGate(entry: EnvironmentProgress, environment: Environment, health: ReadonlyMap<Member, MemberHealth>, build: ImageBuild): Promise<ReconcileOutcome | 'passed'> {
    const troubles = troublesOf(health);
    const broken = troubles.find((result) => result.state === 'failed' || result.state === 'unhealthy');
    if (broken) return this.#rollBack(entry, `turned ${broken.state === 'unhealthy' ? 'Unhealthy' : 'bad'} after the rollout: ${broken.why}`, build);
    // Changed since it was Healthy (an edit of the instance) and not reported on yet: no gate passes on that.
    const pending = troubles[0];
    if (pending) return { waiting: `${entry.Name} waits at its gate until every instance is Healthy again: ${pending.why}`, requeueAfterMs: this.#pollMs };
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

  /**
   * Every instance of the environment this delivery pinned back to what it ran before (one pinned
   * to something else since keeps that); the delivery stops here. Recorded as RollingBack first,
   * so a crash half-way finishes the rollback, never re-pins the build.
   */
  async #rollBack(entry: EnvironmentProgress, why: string, build: ImageBuild): Promise<ReconcileOutcome> {
    if (entry.State !== 'RollingBack') {
      entry.State = 'RollingBack';
      entry.Message = why;
      await this.#save({});
    }
    const image = referenceOf(build);
    await mapConcurrently(entry.Instances, PIN_CONCURRENCY, (member) => pin(this.#context.client, member, build.Repository, member.Previous, image));
    entry.State = 'RolledBack';
    entry.Message = why;
    const previous = [...new Set(entry.Instances.map((member) => member.Previous ?? "the definition's image"))].join(', ');
    return this.#finish('RolledBack', `${entry.Name} failed with ${build.Tag} and was rolled back to ${previous}: ${why}; promotion stopped`, 'Warning');
  }

  /** Someone else took over (a newer build, a person's pin): the delivery stops where it is, changing nothing. */
  async #stop(why: string): Promise<ReconcileOutcome> {
    const current = this.#progress.find((entry) => entry.State !== 'Passed');
    if (current) {
      current.State = 'Superseded';
      current.Message = why;
    }
    return this.#finish('Superseded', why, 'Normal');
  }

  async #finish(phase: Phase & ('Complete' | 'RolledBack' | 'Superseded'), message: string, type: 'Normal' | 'Warning'): Promise<ReconcileOutcome> {
    await this.#context.setCondition({ Type: DELIVERED, Status: phase === 'Complete' ? 'True' : 'False', Reason: phase, Message: message });
    await this.#context.recordEvent({ reason: phase, note: message, type });
    await this.#save({ Phase: phase });
    return undefined;
  }

  async #save(fields: Partial<Delivery>): Promise<void> {
    await this.#context.update({ ...fields, Progress: structuredClone(this.#progress) });
  }
}
