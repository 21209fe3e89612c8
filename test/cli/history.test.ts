/**
 * History, diff and rollback of an object's desired state through the real tptctl, against an
 * API on PGlite: revisions listed with what changed, YAML documents diffed line by line, a
 * rollback that writes an earlier revision's desired state as a new revision (round-trip exact).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../support/control-plane.ts';
import { startApi } from '../support/control-plane.ts';
import { uniqueName } from '../support/samples.ts';
import { ensureBundle, Tptctl } from './support.ts';

const manifest = (image: string, replicas = 1): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ${image}
`;

describe('tptctl history, diff and rollback', () => {
  const tptctl = new Tptctl();
  let api: ApiHarness;
  const name = uniqueName('web');

  beforeAll(async () => {
    await ensureBundle();
    api = await startApi();
    tptctl.useControlPlane('history', api.url, api.encryptionKey);
    const definitions = api.client.kind('WorkloadDefinition');
    const created = await definitions.create({ Name: name, YAMLDocument: manifest('nginx:1.26') });
    await definitions.update(created.ID, { YAMLDocument: manifest('nginx:1.27') });
    await definitions.update(created.ID, { YAMLDocument: manifest('nginx:1.27', 3) });
  }, 120_000);
  afterAll(() => api?.close());

  it('history lists every revision with what changed in the desired state', async () => {
    const lines = (await tptctl.ok(['history', 'workload-definition', name])).trim().split('\n');
    expect(lines[0]).toMatch(/^REVISION\s+OPERATION\s+AGE\s+WHO\s+DESIRED STATE CHANGED$/);
    // WHO is the identity and the client it wrote with.
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^1\s+Created\s+\S+\s+anonymous via threeport-client\s+created$/), expect.stringMatching(/^2\s+Updated\s+.*YAMLDocument$/), expect.stringMatching(/^3\s+Updated\s+.*YAMLDocument$/)]);
  });

  it('diff shows a YAML document line by line, between named revisions or the last two', async () => {
    const between = await tptctl.ok(['diff', 'workload-definitions', name, '--revision', '1', '--to', '2']);
    expect(between).toContain(`workload definition ${name}: revision 1 → 2`);
    expect(between).toContain('  -           image: nginx:1.26');
    expect(between).toContain('  +           image: nginx:1.27');
    expect(between).not.toContain('replicas');
    const last = await tptctl.ok(['diff', 'WorkloadDefinition', name]);
    expect(last).toContain('revision 2 → 3');
    expect(last).toContain('  -   replicas: 1');
    expect(last).toContain('  +   replicas: 3');
  });

  it('rollback writes revision N as a new revision: the desired state round-trips exactly, history keeps everything', async () => {
    expect(await tptctl.ok(['rollback', 'workload-definition', name, '--to', '1'])).toContain(`Complete: workload definition ${name} rolled back to revision 1's desired state (YAMLDocument), as revision 4`);
    const definition = (await api.client.kind('WorkloadDefinition').findByName(name))!;
    expect(definition.YAMLDocument).toBe(manifest('nginx:1.26'));
    expect(definition.Reconciled, 'a new generation for the controller').toBe(false);
    expect((await tptctl.ok(['history', 'workload-definition', name])).trim().split('\n')).toHaveLength(5);
    expect(await tptctl.ok(['diff', 'workload-definition', name, '--revision', '1', '--to', '4'])).toContain('is the same at revisions 1 and 4');
    expect(await tptctl.ok(['rollback', 'workload-definition', name, '--to', '4'])).toContain('already has revision 4');
  });

  it('bad input: a clear message and exit 1, nothing written', async () => {
    expect((await tptctl.fails(['history', 'no-such-kind', name])).stderr).toContain('no kind named no-such-kind');
    expect((await tptctl.fails(['history', 'workload-definition', 'nobody'])).stderr).toContain('no workload definition named nobody');
    expect((await tptctl.fails(['rollback', 'workload-definition', name, '--to', '99'])).stderr).toContain(`workload definition ${name} has no revision 99: its revisions are 1 to 4`);
    expect((await tptctl.fails(['diff', 'workload-definition', name, '--to', 'latest'])).stderr).toContain('--to takes a revision number');
    expect(await api.client.kind('WorkloadDefinition').revisions(Number((await api.client.kind('WorkloadDefinition').findByName(name))!.ID))).toHaveLength(4);
  });

  it("what controllers report is hidden from history unless --all, and diff's default skips it to the last change of desired state", async () => {
    const definition = (await api.client.kind('WorkloadDefinition').findByName(name))!;
    await api.client.kind('WorkloadDefinition').update(definition.ID, { Status: 'reported by a controller' });
    const result = await tptctl.run(['history', 'workload-definition', name]);
    expect(result.stdout.trim().split('\n').filter((line) => !line.startsWith('Info:'))).toHaveLength(5);
    expect(result.stdout).toContain("1 revision(s) that changed only what controllers report are not shown (--all shows them)");
    expect((await tptctl.ok(['history', 'workload-definition', name, '--all'])).trim().split('\n').at(-1)).toMatch(/^5\s+Updated\s+.*\(status only\)$/);
    expect(await tptctl.ok(['diff', 'workload-definition', name])).toContain('revision 3 → 5');
  });
});
