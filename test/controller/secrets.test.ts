/**
 * Secret data that is never stored (SecretDefinition.Data) reaching the secret controller, on
 * both buses: encrypted in the notification, decrypted with context.decrypt, carried when several
 * notifications are handled as one, and kept out of everything the runtime writes or logs.
 */
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/crypto/field-cipher.ts';
import { TerminalError } from '../../src/controller/errors.ts';
import type { ApiObject } from '../../src/model/kind.ts';
import { captureLogger } from '../support/capture-log.ts';
import { uniqueName } from '../support/samples.ts';
import { buses, startBed } from './support/beds.ts';
import { eventually, startControllers } from './support/harness.ts';
import { gate, scriptedReconciler, type ScriptedCall } from './support/scripted.ts';

const LONG = { timeout: 120_000 };
const plaintext = () => `pw-${uniqueName('secret')}`;

describe.each(buses)('secret data (%s bus)', async (busName) => {
  const bed = await startBed(busName);
  const { client } = bed.api;
  const secrets = client.kind('SecretDefinition');
  const cipher = FieldCipher.fromBase64(bed.api.encryptionKey);
  /** What each call decrypted, by call. */
  const decrypted = new Map<ScriptedCall, Record<string, string> | undefined>();
  const secretReconciler = () => scriptedReconciler('SecretDefinition');
  const decrypt = (context: { transient: ApiObject | undefined; decrypt(value: unknown): unknown }, call: ScriptedCall) => {
    const data = context.transient?.Data === undefined ? undefined : (context.decrypt(context.transient.Data) as Record<string, string>);
    decrypted.set(call, data);
    return data;
  };
  /**
   * A secret controller that gets a notification without data (a resync's copy: the data is
   * never stored) has nothing to sync yet: it waits for the notification that has it.
   */
  const noData = { waiting: 'no secret data in this notification' };
  const withData = (calls: ScriptedCall[]) => calls.filter((call) => decrypted.get(call) !== undefined);

  it('the reconciler receives context.transient.Data encrypted, and decrypts it', LONG, async () => {
    const scripted = secretReconciler();
    const name = uniqueName('secret');
    const password = plaintext();
    const ciphertexts: unknown[] = [];
    scripted.script(name, (context, call) => {
      if (!decrypt(context, call)) return noData;
      ciphertexts.push((context.transient?.Data as Record<string, unknown>).password);
    });
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], {}, { cipher });
    const id = Number((await secrets.create({ Name: name, Data: { password, user: 'admin-user' } })).ID);
    await eventually('reconciled', async () => (await secrets.get(id)).Reconciled === true);
    expect(withData(scripted.callsOf(id)).map((call) => decrypted.get(call))).toEqual([{ password, user: 'admin-user' }]);
    expect(ciphertexts).toHaveLength(1);
    expect(ciphertexts[0]).not.toBe(password);
    expect(JSON.stringify(await secrets.revisions(id))).not.toContain(password);
  });

  it('new data reaches the reconciler when notifications pile up behind a running reconcile and are handled as one', LONG, async () => {
    const scripted = secretReconciler();
    const name = uniqueName('coalesced');
    const [first, second] = [plaintext(), plaintext()];
    const running = gate();
    const release = gate();
    scripted.script(name, async (context, call) => {
      if (!decrypt(context, call)) return noData;
      if (withData(scripted.callsOf(call.id)).length === 1) {
        running.open();
        await release.opened;
      }
    });
    const manager = await startControllers(await bed.controllerBus(), client, [scripted.reconciler], { concurrency: 4 }, { cipher });
    const id = Number((await secrets.create({ Name: name, Data: { password: first } })).ID);
    await running.opened;
    // While the first data is being synced: new data, then a change that carries none (a rename).
    const rotated = await secrets.update(id, { Data: { password: second } });
    expect(rotated, 'new data is a change of desired state').toMatchObject({ Reconciled: false, Generation: 2 });
    await secrets.update(id, { Name: `${name}-renamed` });
    await eventually('both notifications delivered behind the running reconcile', async () => (await manager.depth()) >= 3 || `depth ${await manager.depth()}`);
    release.open();

    await eventually('reconciled', async () => (await secrets.get(id)).Reconciled === true && (await manager.depth()) === 0);
    const calls = scripted.callsOf(id);
    expect(decrypted.get(withData(calls)[0]!)).toEqual({ password: first });
    // Whatever ran in between, the last reconcile synced the newest data, of the newest generation.
    expect(decrypted.get(calls.at(-1)!)).toEqual({ password: second });
    expect(calls.at(-1)!.generation).toBe(3);
    expect(await secrets.get(id)).toMatchObject({ ObservedGeneration: 3, Name: `${name}-renamed` });
  });

  it('the plaintext never appears in Status, Conditions, Events or logs written after a failure that mentions it', LONG, async () => {
    const scripted = secretReconciler();
    const name = uniqueName('leaky');
    const password = plaintext();
    scripted.script(name, async (context, call) => {
      const data = decrypt(context, call);
      if (!data) return noData;
      const tries = withData(scripted.callsOf(call.id)).length;
      if (tries === 1) {
        await context.recordEvent({ reason: 'Syncing', note: `syncing ${data.password} to the provider` });
        await context.setCondition({ Type: 'Synced', Status: 'False', Reason: 'Pending', Message: `waiting to store ${data.password}` });
        throw new Error(`the provider rejected the value ${data.password} for key password`);
      }
      throw new TerminalError(`value ${data.password} is longer than the provider allows`);
    });
    const log = captureLogger('debug');
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], {}, { cipher, logger: log.logger });
    const id = Number((await secrets.create({ Name: name, Data: { password } })).ID);

    await eventually('failed for good', async () => String((await secrets.get(id)).Status).startsWith('Failed:'));
    const failed = await secrets.get(id);
    expect(failed.Status).toBe('Failed: value [redacted] is longer than the provider allows (not retried until the object changes)');
    const written = JSON.stringify({ revisions: await secrets.revisions(id), events: await client.eventsOf(id) });
    expect(written).not.toContain(password);
    expect(written).toContain('the provider rejected the value [redacted] for key password');
    expect(written).toContain('syncing [redacted] to the provider');
    expect(written).toContain('waiting to store [redacted]');
    expect(log.text()).toContain('[redacted]');
    expect(log.text()).not.toContain(password);
  });

  it('a resync that copies the object before the API’s notification is published does not swallow the data', LONG, async () => {
    const scripted = secretReconciler();
    const name = uniqueName('raced');
    const password = plaintext();
    scripted.script(name, (context, call) => (decrypt(context, call) ? undefined : noData));
    // The API's notification (with the data) waits in the outbox while the controller starts and
    // its resync finds the object unreconciled.
    await bed.api.server.relay.stop();
    const id = Number((await secrets.create({ Name: name, Data: { password } })).ID);
    await startControllers(await bed.controllerBus(), client, [scripted.reconciler], {}, { cipher });
    try {
      await eventually('the resync’s copy reconciled, without data', async () => (await secrets.get(id)).Status === `Waiting: ${noData.waiting}`);
    } finally {
      bed.api.server.relay.start();
    }
    await eventually('reconciled with the data', async () => (await secrets.get(id)).Reconciled === true);
    expect(scripted.callsOf(id).map((call) => decrypted.get(call))).toEqual([undefined, { password }]);
  });
});
