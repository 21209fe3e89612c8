/**
 * Schema migrations (src/store/schema.ts, migrations.ts) on both databases: the indexes the
 * registry declares exist and serve the lookups they are for, and a unique index that rows
 * written before it break is an error that says which kind, which field, and what to do — not
 * PostgreSQL's bare message — and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/model/registry.ts';
import { migrate, MigrationError } from '../../src/store/migrations.ts';
import { cleanUp, startApi } from '../support/control-plane.ts';
import { createSample, uniqueName } from '../support/samples.ts';

describe.each(['postgres', 'pglite'] as const)('migrations on %s', async (database) => {
  const api = await startApi({ database });
  cleanUp(() => api.close());
  const { db } = api.server;
  const fingerprint = async () => (await db.query<{ registry_fingerprint: string }>('SELECT registry_fingerprint FROM threeport_schema_state'))[0]?.registry_fingerprint;
  /** As if the registry changed since the last start: the next migrate runs every statement again. */
  const outdated = () => db.query("UPDATE threeport_schema_state SET registry_fingerprint = 'outdated'");

  it('references to an object are found by an index when it is removed (AttachedObjectID)', async () => {
    const references = registry.get('AttachedObjectReference');
    const indexes = await db.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [references.table]);
    expect(indexes.map((index) => index.indexdef)).toContainEqual(expect.stringMatching(/\(attached_object_id\) WHERE \(deleted_at IS NULL\)$/));
    // The lookup every removal makes (store/deletion.ts) can use it.
    const plan = await db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      return tx.query<Record<string, string>>(`EXPLAIN SELECT id FROM ${references.table} WHERE attached_object_id = ANY($1) AND deleted_at IS NULL`, [[1, 2]]);
    });
    expect(plan.map((row) => Object.values(row)[0]).join('\n')).toMatch(/Index Scan (using|on) v0_attached_object_references_attached_object_id_ix /);
  });

  it.each([
    {
      rule: 'a unique name',
      index: 'v0_tiers_name_live',
      duplicate: async () => {
        const [first, second] = [await createSample(api.client, registry.get('Tier')), await createSample(api.client, registry.get('Tier'))];
        await db.query('UPDATE v0_tiers SET name = $1 WHERE id = $2', [first.Name, second.ID]);
        return { expected: `live Tier objects share a Name (Key (name)=(${String(first.Name)}) is duplicated), and names are unique per kind`, undo: () => db.query('UPDATE v0_tiers SET name = $1 WHERE id = $2', [uniqueName('undone'), second.ID]) };
      },
    },
    {
      rule: 'an exclusive flag',
      index: 'v0_kubernetes_runtime_instances_default_runtime_exclusive',
      duplicate: async () => {
        const runtimes = await Promise.all([0, 1].map(() => createSample(api.client, registry.get('KubernetesRuntimeInstance'))));
        await db.query('UPDATE v0_kubernetes_runtime_instances SET default_runtime = true WHERE id = ANY($1)', [runtimes.map((runtime) => runtime.ID)]);
        return { expected: 'more than one live KubernetesRuntimeInstance has DefaultRuntime set (Key (default_runtime)=(t) is duplicated), and at most one may', undo: () => db.query('UPDATE v0_kubernetes_runtime_instances SET default_runtime = false WHERE id = $1', [runtimes[1]!.ID]) };
      },
    },
  ])('existing rows that break $rule: the error names the kind and field and says to fix the rows; nothing is changed', async ({ index, duplicate }) => {
    // Rows from before the rule: the index is missing and the rows break it.
    await db.query(`DROP INDEX ${index}`);
    const { expected, undo } = await duplicate();
    await outdated();

    const error = await migrate(db, registry).then(() => undefined, (failure: unknown) => failure);
    expect(error).toBeInstanceOf(MigrationError);
    const message = (error as Error).message;
    expect(message).toContain(expected);
    expect(message).toContain(`the unique index ${index}`);
    expect(message).toMatch(/Fix the rows in v0_\w+ — (remove the duplicate rows \(or rename them\)|set DefaultRuntime to false on all but one of them) — then start again$/);
    expect(await fingerprint(), 'the failed migration changed nothing').toBe('outdated');
    expect((await db.query('SELECT 1 FROM pg_indexes WHERE indexname = $1', [index])).length).toBe(0);

    if (database === 'postgres') {
      // A server starting on that database fails with that message (shown without a stack trace).
      await expect(startApi({ databaseUrl: api.databaseUrl! })).rejects.toThrow(expected);
    }

    await undo();
    await migrate(db, registry);
    expect((await db.query('SELECT 1 FROM pg_indexes WHERE indexname = $1', [index])).length).toBe(1);
    expect(await fingerprint()).not.toBe('outdated');
  });
});
