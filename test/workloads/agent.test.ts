/**
 * The agent's reports, with the agent run in this process (the runtime's AgentLocation is
 * External, so no other agent reports for it): what of a live object reaches the API, events that
 * come after their object was deleted, and what it remembers; the reporter's answer to an API that
 * refuses a report or does not answer.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.ts';
import { Reporter, type EventReport } from '../../src/agent/reporter.ts';
import { ApiClient, isNotFound } from '../../src/client/api-client.ts';
import type { Manifest } from '../../src/model/manifest.ts';
import { captureLogger, WARN } from '../support/capture-log.ts';
import { cleanUp } from '../support/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { uniqueName } from '../support/samples.ts';
import { web } from './support/manifests.ts';
import { tcpProxy } from './support/tcp-proxy.ts';
import { namespaceOf, resourceRecords, startWorkloadPlane, testLogger } from './support/workload-plane.ts';

/** How long the agent below still reports events about an object after its deletion. */
const LATE_EVENT_GRACE_MS = 6000;

const eventFor = (instanceId: number, fields: Partial<EventReport> = {}): EventReport => ({
  uid: randomUUID(),
  type: 'Normal',
  reason: 'ReporterTest',
  message: 'reported by the test',
  timestamp: new Date().toISOString(),
  count: 1,
  instance: { type: 'WorkloadInstance', id: instanceId },
  ...fields,
});

describe('the agent, run in this process', async () => {
  const plane = await startWorkloadPlane();
  const { client } = plane;
  const runtime = await plane.registerCluster('a', { AgentLocation: 'External' });
  const kube = await plane.kube('a');
  const { controlPlaneId } = await client.info();
  const stop = new AbortController();
  const agent = new Agent({
    api: new ApiClient({ baseUrl: plane.api.url }),
    cluster: kube,
    controlPlaneId: controlPlaneId!,
    logger: testLogger(),
    flushIntervalMs: 200,
    lateEventGraceMs: LATE_EVENT_GRACE_MS,
  });
  const running = agent.run(stop.signal);
  cleanUp(async () => {
    stop.abort();
    await running;
  });
  // An instance for the reporter's own tests to report events about.
  const { instance: target } = await plane.deploy(uniqueName('reporter'), web(), runtime.ID);

  it('a Secret is reported without its values: the keys only', async () => {
    const password = `pw-${uniqueName('secret')}`;
    const token = `tk-${uniqueName('secret')}`;
    const encoded = Buffer.from(password).toString('base64');
    const secret = `apiVersion: v1
kind: Secret
metadata: { name: web-credentials }
type: Opaque
data: { password: ${encoded} }
stringData: { token: ${token} }
`;
    const { instance } = await plane.deploy(uniqueName('secret'), web({ extra: secret }), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    // The cluster has the values (the API server folds stringData into data)…
    const inCluster = await kube.get({ apiVersion: 'v1', kind: 'Secret', name: 'web-credentials', namespace });
    expect(inCluster?.data).toEqual({ password: encoded, token: Buffer.from(token).toString('base64') });

    // …the live object the agent reports has the Secret's keys and none of its values.
    let reported: Manifest | undefined;
    await eventually('the Secret’s live object reported', async () => {
      const records = await resourceRecords(client, instance.ID);
      reported = records.get(`/Secret/${namespace}/web-credentials`)?.RuntimeDefinition as Manifest | undefined;
      return reported?.metadata?.uid === inCluster?.metadata.uid || `reported: ${JSON.stringify(reported?.metadata)}`;
    });
    expect(reported?.data).toEqual({ password: '', token: '' });
    expect(reported?.stringData).toBeUndefined();
    const everything = JSON.stringify([...(await resourceRecords(client, instance.ID)).values()].map((record) => record.RuntimeDefinition));
    for (const value of [password, encoded, token, Buffer.from(token).toString('base64')]) expect(everything).not.toContain(value);
  });

  it('a Pod’s events that come after its deletion are still reported; after the grace, the Pod is forgotten', { timeout: 120_000 }, async () => {
    const { instance } = await plane.deploy(uniqueName('late'), web(), runtime.ID);
    await plane.waitForStatus(instance.ID, 'Healthy');
    const namespace = await namespaceOf(client, instance.ID);
    const selector = `control-plane.threeport.io/workload-instance=${instance.ID}`;
    const [pod] = (await kube.list('v1', 'Pod', { namespace, labelSelector: selector })).items;
    const uid = pod!.metadata.uid!;
    await eventually('the agent knows the pod', () => agent.knownObject(uid) === 'live');

    await kube.transport.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${pod!.metadata.name}`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 } });
    await eventually('the agent saw the pod deleted', () => agent.knownObject(uid) === 'deleted' || `known as ${agent.knownObject(uid)}`);
    // An event about it that comes now (a kubelet's, late) still belongs to the instance.
    const late = await postEvent(namespace, pod!, 'LateAfterDeletion');
    await eventually('the late event reported', async () => (await client.kind('WorkloadEvent').list({ runtimeeventuid: late })).total === 1);

    // After the grace the pod is forgotten: an event about it now belongs to nobody.
    await eventually('the pod forgotten', () => agent.knownObject(uid) === undefined || `known as ${agent.knownObject(uid)}`, LATE_EVENT_GRACE_MS + 30_000);
    const tooLate = await postEvent(namespace, pod!, 'TooLate');
    // The events watch delivers in order: once an event posted after it is reported, the agent has handled it.
    let replacement: Manifest | undefined;
    await eventually('the replacement pod known', async () => {
      replacement = (await kube.list('v1', 'Pod', { namespace, labelSelector: selector })).items.find((candidate) => candidate.metadata.uid !== uid);
      return (replacement !== undefined && agent.knownObject(replacement.metadata.uid!) === 'live') || 'not yet';
    });
    const marker = await postEvent(namespace, replacement!, 'AfterTooLate');
    await eventually('the marker event reported', async () => (await client.kind('WorkloadEvent').list({ runtimeeventuid: marker })).total === 1);
    await agent.flush();
    expect((await client.kind('WorkloadEvent').list({ runtimeeventuid: tooLate })).total).toBe(0);
    expect(agent.memory.deletedOwners).toBe(0);
  });

  /** Creates an Event about `object` in the cluster, as a component of the cluster would; returns its UID. */
  async function postEvent(namespace: string, object: Manifest, reason: string): Promise<string> {
    const now = new Date().toISOString();
    const created = await kube.transport.request<Manifest>('POST', `/api/v1/namespaces/${namespace}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${object.metadata.name}.${randomUUID().slice(0, 8)}`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: object.metadata.name, namespace, uid: object.metadata.uid },
        reason,
        message: `${reason} (posted by the test)`,
        type: 'Normal',
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'agent-test' },
      },
    });
    return created.metadata.uid!;
  }

  // ── the reporter by itself, on this control plane's API ──

  it('a report the API refuses (an event for an instance that is gone) is dropped, with one warning', async () => {
    const { instance: gone } = await plane.deploy(uniqueName('gone'), web(), runtime.ID);
    await client.kind('WorkloadInstance').delete(gone.ID);
    await eventually('instance gone', async () => client.kind('WorkloadInstance').get(gone.ID).then(() => false, (error: unknown) => isNotFound(error)));
    const log = captureLogger();
    const reporter = new Reporter({ api: new ApiClient({ baseUrl: plane.api.url }), logger: log.logger });
    reporter.event(eventFor(gone.ID));
    reporter.event(eventFor(gone.ID));
    reporter.event(eventFor(target.ID));
    await reporter.flush();
    expect(reporter.pending).toBe(0);
    expect(reporter.sent).toMatchObject({ events: 1, dropped: 2, failures: 0 });
    expect(reporter.retryDelayMs).toBe(0);
    const warnings = log.lines.filter((line) => line.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/^the API refused a report \(HTTP 4\d\d\); dropped/);
  });

  it('while the API does not answer, reports are kept and retried ever less often; all go through once it is back', async () => {
    const proxy = await tcpProxy(new URL(plane.api.url));
    const flushIntervalMs = 50;
    // One request at a time, to see how many a batch makes.
    const reporter = new Reporter({ api: new ApiClient({ baseUrl: proxy.url, timeoutMs: 5000 }), logger: testLogger(), flushIntervalMs, maxRetryDelayMs: 800, concurrency: 1 });
    await proxy.cut();
    const stop = new AbortController();
    const running = reporter.run(stop.signal);
    cleanUp(async () => {
      stop.abort();
      await running;
    });
    const reports = [eventFor(target.ID), eventFor(target.ID), eventFor(target.ID)];
    for (const report of reports) reporter.event(report);
    await eventually('backing off', () => reporter.retryDelayMs >= 400 || `failures ${reporter.sent.failures}, retry in ${reporter.retryDelayMs} ms`);
    expect(reporter.pending).toBe(3);
    // Backing off 100, 200, 400 ms took three batches (a fourth may have begun), and each stopped at
    // the first report the API did not answer: one try per batch, not one per report.
    expect(reporter.sent.failures).toBeGreaterThanOrEqual(3);
    expect(reporter.sent.failures).toBeLessThanOrEqual(5);

    await proxy.restore();
    await eventually('reported once the API is back', async () => {
      const stored = await Promise.all(reports.map(async (report) => (await client.kind('WorkloadEvent').list({ runtimeeventuid: report.uid })).total));
      return stored.every((total) => total === 1) || `stored ${stored.join(', ')}`;
    }, 30_000);
    // The reporter counts a report once its answer is back, and resets its back-off after the batch.
    await eventually('the reporter done', () => (reporter.pending === 0 && reporter.retryDelayMs === 0 && reporter.sent.events === 3) || JSON.stringify({ pending: reporter.pending, retryDelayMs: reporter.retryDelayMs, sent: reporter.sent }));
    expect(reporter.sent).toMatchObject({ events: 3, dropped: 0 });
  });

  it('remembers a bounded number of stored events; one it forgot is updated in place, not stored twice', async () => {
    const reporter = new Reporter({ api: new ApiClient({ baseUrl: plane.api.url }), logger: testLogger(), maxKnownEvents: 3 });
    const reports = Array.from({ length: 6 }, () => eventFor(target.ID));
    for (const report of reports) reporter.event(report);
    await reporter.flush();
    expect(reporter.sent.events).toBe(6);
    expect(reporter.memory.knownEvents).toBe(3);

    // The first was forgotten (least recently used): it repeats, and its stored event is updated.
    const first = reports[0]!;
    reporter.event({ ...first, count: 2, message: 'again' });
    await reporter.flush();
    expect(reporter.memory.knownEvents).toBe(3);
    const stored = await client.kind('WorkloadEvent').listAll({ runtimeeventuid: first.uid });
    expect(stored.map((event) => [event.Count, event.Message])).toEqual([[2, 'again']]);
  });
});
