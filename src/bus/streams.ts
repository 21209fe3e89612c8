import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { StreamSpec } from './nats.ts';
import type { Registry } from '../model/registry.ts';

const nanos = (milliseconds: number): number => milliseconds * 1_000_000;

/**
 * One stream per controller group, named and filtered like the original's, but bounded: a work
 * queue (a message goes once its consumer acks it) with age, count and size limits.
 */
export function streamConfigs(registry: Registry): StreamSpec[] {
  const subjects = new Map<string, string[]>();
  for (const kind of registry.reconcilable) {
    const stream = kind.controller!.stream;
    const list = subjects.get(stream) ?? [];
    list.push(`${kind.subjectPrefix}.create`, `${kind.subjectPrefix}.update`, `${kind.subjectPrefix}.delete`);
    subjects.set(stream, list);
  }
  return [...subjects].map(([name, list]) => ({
    name,
    subjects: list,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(7 * 24 * 3600 * 1000),
    max_msgs: 1_000_000,
    // Notifications are a few hundred bytes: 256 MiB holds the million. JetStream reserves each
    // stream's limit from its store, so ten groups at 1 GiB would ask for 10 GiB of disk.
    max_bytes: 256 * 1024 ** 2,
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: 1,
  }));
}
