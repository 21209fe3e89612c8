/**
 * The resource stack engine on its own, with steps that keep their resources in memory (the real
 * steps are proven against moto in test/aws): what a pass does when a resource takes time to
 * become usable or to go, what it does with a resource made but never recorded, and what a
 * teardown does with one someone else owns.
 */
import { describe, expect, it } from 'vitest';
import { AwsProblem, FOREIGN, provision, teardown, type MadeResource, type StackStep } from '../../src/platform/aws/index.ts';

/** A cloud of named resources: each becomes usable, and goes, only after `slowness` looks. */
class Cloud {
  readonly resources = new Map<string, { id: string; looks: number; removing?: number }>();
  readonly calls: string[] = [];
  foreign = new Set<string>();
  private next = 0;

  step(key: string, slowness = 0, after?: string): StackStep {
    const cloud = this;
    return {
      key,
      what: `resource ${key}`,
      async find() {
        cloud.calls.push(`find ${key}`);
        if (cloud.foreign.has(key)) throw new AwsProblem(`${key} is someone else's`, true, FOREIGN);
        const found = cloud.resources.get(key);
        return found ? { id: found.id } : undefined;
      },
      async create(run) {
        if (after) run.made(after);
        cloud.calls.push(`create ${key}`);
        const id = `${key}-${++cloud.next}`;
        cloud.resources.set(key, { id, looks: 0 });
        return { id };
      },
      async pending() {
        const resource = cloud.resources.get(key)!;
        return resource.looks++ < slowness ? `${key} is being made` : undefined;
      },
      async remove() {
        cloud.calls.push(`remove ${key}`);
        const resource = cloud.resources.get(key);
        if (resource) resource.removing = 0;
      },
      async removing() {
        const resource = cloud.resources.get(key);
        if (!resource) return undefined;
        if ((resource.removing ?? 0) < slowness) {
          resource.removing = (resource.removing ?? 0) + 1;
          return `${key} is being removed`;
        }
        cloud.resources.delete(key);
        return undefined;
      },
    };
  }
}

function recorder() {
  const inventory: Record<string, MadeResource> = {};
  const adopted: string[] = [];
  return {
    inventory,
    adopted,
    progress: {
      async record(key: string, made: MadeResource | undefined) {
        if (made) inventory[key] = made;
        else delete inventory[key];
      },
      adopted: (step: StackStep) => adopted.push(step.key),
    },
  };
}

describe('the resource stack', () => {
  it('returns, saying what it waits for, while a resource is not usable yet; the next pass goes on from there', async () => {
    const cloud = new Cloud();
    const steps = [cloud.step('network'), cloud.step('cluster', 2, 'network'), cloud.step('nodes', 0, 'cluster')];
    const { inventory, progress } = recorder();
    const first = await provision(steps, inventory, progress);
    expect(first).toMatchObject({ done: false, waiting: 'cluster is being made', ready: 1, total: 3 });
    expect(Object.keys(inventory)).toEqual(['network', 'cluster']);
    expect(await provision(steps, inventory, progress)).toMatchObject({ done: false, waiting: 'cluster is being made' });
    expect(await provision(steps, inventory, progress)).toMatchObject({ done: true });
    expect(cloud.calls.filter((call) => call.startsWith('create'))).toEqual(['create network', 'create cluster', 'create nodes']);
  });

  it('finds a resource made but never recorded (a crash in between) instead of making a second', async () => {
    const cloud = new Cloud();
    const steps = [cloud.step('network'), cloud.step('gateway')];
    const { inventory, progress, adopted } = recorder();
    await provision(steps, inventory, progress);
    delete inventory.gateway;
    const again = recorder();
    Object.assign(again.inventory, inventory);
    expect(await provision(steps, again.inventory, again.progress)).toMatchObject({ done: true });
    expect(again.adopted).toEqual(['gateway']);
    expect(adopted).toEqual([]);
    expect(cloud.calls.filter((call) => call === 'create gateway')).toHaveLength(1);
    expect(again.inventory.gateway?.id).toBe(cloud.resources.get('gateway')?.id);
  });

  it('tears down last made first, each once the ones after it are gone, asking for each removal once; unrecorded ones too', async () => {
    const cloud = new Cloud();
    const steps = [cloud.step('network', 0), cloud.step('cluster', 1, 'network'), cloud.step('nodes', 0, 'cluster')];
    const { inventory, progress } = recorder();
    while (!(await provision(steps, inventory, progress)).done);
    delete inventory.nodes; // made, never recorded
    cloud.calls.length = 0;
    let outcome = await teardown(steps, inventory, progress);
    expect(outcome).toMatchObject({ done: false, waiting: 'cluster is being removed' });
    outcome = await teardown(steps, inventory, progress);
    expect(outcome).toMatchObject({ done: true });
    expect(cloud.calls.filter((call) => call.startsWith('remove'))).toEqual(['remove nodes', 'remove cluster', 'remove network']);
    expect(inventory).toEqual({});
    expect(cloud.resources.size).toBe(0);
  });

  it('leaves a resource of its name that someone else owns alone when tearing down', async () => {
    const cloud = new Cloud();
    const steps = [cloud.step('network'), cloud.step('role')];
    const { inventory, progress } = recorder();
    await provision([steps[0]!], inventory, progress);
    cloud.foreign.add('role');
    cloud.resources.set('role', { id: 'theirs', looks: 0 });
    await expect(provision(steps, inventory, progress)).rejects.toThrow("role is someone else's");
    expect(await teardown(steps, inventory, progress)).toMatchObject({ done: true });
    expect(cloud.resources.get('role')?.id).toBe('theirs');
    expect(cloud.calls).not.toContain('remove role');
  });
});
