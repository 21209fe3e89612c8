/**
 * SecretDefinition.Data on both buses: stored encrypted (the row, the API's answers and the
 * revisions hold ciphertext, never the plaintext), read by the reconciler from context.object and
 * decrypted with context.decrypt; new values are a new generation that reaches the reconciler,
 * values written back (the same plaintext, or the ciphertext read) are not; and what the runtime
 * writes or logs after a reconcile that decrypted them never holds the plaintext.
 */
import { describe, expect, it } from 'vitest';
import { redactorOf } from '../../src/auth/redaction.ts';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { REDACTED_PLACEHOLDER } from '../../src/model/fields.ts';
import { TerminalError } from '../../src/controller/errors.ts';
import type { ReconcileContext } from '../../src/controller/reconciler.ts';
import { registry } from '../../src/model/registry.ts';
import { captureLogger } from '../support/capture-log.ts';
import { uniqueName } from '../support/samples.ts';
import { buses, startBed } from './support/beds.ts';
import { eventually, startControllers } from './support/harness.ts';
import { scriptedReconciler, type ScriptedCall } from './support/scripted.ts';

const LONG = { timeout: 120_000 };
const plaintext = () => `pw-${uniqueName('secret')}`;

describe.each(buses)('secret data (%s bus)', async (busName) => {
  const bed = await startBed(busName);
  const { client } = bed.api;
  const secrets = client.kind('SecretDefinition');
  const cipher = FieldCipher.fromBase64(bed.api.encryptionKey);
  /** What each call found in context.object.Data, and what context.decrypt made of it. */
  const seen = new Map<ScriptedCall, { stored: unknown; values: Record<string, string> }>();
  const decrypt = (context: ReconcileContext, call: ScriptedCall): Record<string, string> => {
    const values = context.decrypt(context.object.Data) as Record<string, string>;
    seen.set(call, { stored: context.object.Data, values });
    return values;
  };
  const reconciled = (id: number, generation: number) =>
    eventually(`generation ${generation} reconciled`, async () => {
      const object = await secrets.get(id);
      return (object.Reconciled === true && object.ObservedGeneration === generation) || `Generation ${object.Generation}, ObservedGeneration ${object.ObservedGeneration}`;
    });

  it('Data is stored encrypted; the reconciler finds it in context.object and decrypts it', LONG, async () => {
    const scripted = scriptedReconciler('SecretDefinition');
    const name = uniqueName('secret');
    const password = plaintext();
    scripted.script(name, (context, call) => void decrypt(context, call));
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], {}, { cipher });
    const created = await secrets.create({ Name: name, Data: { password, user: 'admin-user' } });
    const id = Number(created.ID);
    await reconciled(id, 1);

    const read = await secrets.get(id);
    expect(read.Data, 'an admin reads the ciphertext').toEqual(created.Data);
    expect(JSON.stringify(read)).not.toContain(password);
    expect(cipher.decryptValue(read.Data)).toEqual({ password, user: 'admin-user' });
    const [row] = await bed.api.server.db.query<{ data: unknown }>('SELECT data FROM v0_secret_definitions WHERE id = $1', [id]);
    expect(row!.data, 'the row holds the ciphertext').toEqual(read.Data);
    expect(redactorOf(registry.get('SecretDefinition'))!(read).Data, 'who may not see secrets reads the placeholder').toBe(REDACTED_PLACEHOLDER);
    expect(JSON.stringify(await secrets.revisions(id))).not.toContain(password);

    expect(scripted.callsOf(id).map((call) => seen.get(call))).toEqual([{ stored: read.Data, values: { password, user: 'admin-user' } }]);
  });

  it('new Data is a new generation that reaches the reconciler; the same values or the ciphertext written back are not', LONG, async () => {
    const scripted = scriptedReconciler('SecretDefinition');
    const name = uniqueName('rotated');
    const [first, second] = [plaintext(), plaintext()];
    scripted.script(name, (context, call) => void decrypt(context, call));
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], {}, { cipher });
    const id = Number((await secrets.create({ Name: name, Data: { password: first } })).ID);
    await reconciled(id, 1);

    const read = await secrets.get(id);
    expect(await secrets.update(id, { Data: read.Data }), 'the ciphertext read').toMatchObject({ Generation: 1, Reconciled: true, Data: read.Data });
    expect(await secrets.update(id, { Data: { password: first } }), 'the same plaintext').toMatchObject({ Generation: 1, Reconciled: true });
    expect(cipher.decryptValue((await secrets.get(id)).Data)).toEqual({ password: first });

    expect(await secrets.update(id, { Data: { password: second } })).toMatchObject({ Generation: 2, Reconciled: false });
    await reconciled(id, 2);
    expect(scripted.callsOf(id).map((call) => [call.generation, seen.get(call)?.values])).toEqual([
      [1, { password: first }],
      [2, { password: second }],
    ]);
    const revisions = JSON.stringify(await secrets.revisions(id));
    for (const value of [first, second]) expect(revisions).not.toContain(value);
  });

  it('the plaintext never appears in Status, Conditions, Events or logs written after a failure that mentions it', LONG, async () => {
    const scripted = scriptedReconciler('SecretDefinition');
    const name = uniqueName('leaky');
    const password = plaintext();
    scripted.script(name, async (context, call) => {
      const values = decrypt(context, call);
      if (call.call === 1) {
        await context.recordEvent({ reason: 'Syncing', note: `syncing ${values.password} to the provider` });
        await context.setCondition({ Type: 'Synced', Status: 'False', Reason: 'Pending', Message: `waiting to store ${values.password}` });
        throw new Error(`the provider rejected the value ${values.password} for key password`);
      }
      throw new TerminalError(`value ${values.password} is longer than the provider allows`);
    });
    const log = captureLogger('debug');
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], {}, { cipher, logger: log.logger });
    const id = Number((await secrets.create({ Name: name, Data: { password } })).ID);

    await eventually('failed for good', async () => String((await secrets.get(id)).Status).startsWith('Failed:'));
    expect((await secrets.get(id)).Status).toBe('Failed: value [redacted] is longer than the provider allows (not retried until the object changes)');
    const written = JSON.stringify({ object: await secrets.get(id), revisions: await secrets.revisions(id), events: await client.eventsOf(id) });
    expect(written).not.toContain(password);
    expect(written).toContain('the provider rejected the value [redacted] for key password');
    expect(written).toContain('syncing [redacted] to the provider');
    expect(written).toContain('waiting to store [redacted]');
    expect(log.text()).toContain('[redacted]');
    expect(log.text()).not.toContain(password);
  });
});
