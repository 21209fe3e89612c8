/** The pure parts of tptctl: tables, ages, the config file, YAML specs, dependency order, completion. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClusterConnection } from '../../src/cli/providers/local-runtime.ts';
import { registry } from '../../src/model/registry.ts';
import { parseConfig, upsertControlPlane, removeControlPlane, apiBaseUrl } from '../../src/cli/config/threeport-config.ts';
import { parseDocuments } from '../../src/cli/documents/source.ts';
import { expandDocument } from '../../src/cli/documents/expand.ts';
import { toObjectSpec } from '../../src/cli/documents/object-spec.ts';
import { dependencyOrder } from '../../src/cli/operations/apply.ts';
import { parseDuration } from '../../src/cli/operations/wait.ts';
import { formatAge, renderTable } from '../../src/cli/output/table.ts';
import { tableRows } from '../../src/cli/output/get-table.ts';
import { progressOf } from '../../src/cli/operations/progress.ts';
import { describeText, statusParts } from '../../src/cli/output/describe.ts';
import { warningDigest } from '../../src/cli/output/warning-events.ts';
import { resourceReadiness, resourceRows } from '../../src/cli/output/workload-resources.ts';
import { colourEnabled, createTerminal } from '../../src/cli/output/terminal.ts';
import { completions } from '../../src/cli/commands/completion.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { samplesDir } from './support.ts';

describe('tables', () => {
  it('pads columns like the original tabwriter', () => {
    expect(renderTable(['NAME', 'AGE'], [['wordpress', '5s'], ['a', '1h0m0s']])).toBe('NAME         AGE\nwordpress    5s\na            1h0m0s');
  });

  it('prints ages as Go durations', () => {
    const now = new Date('2024-01-01T03:00:00Z');
    expect(formatAge('2024-01-01T02:59:15Z', now)).toBe('45s');
    expect(formatAge('2024-01-01T02:59:00Z', now)).toBe('1m0s');
    expect(formatAge('2024-01-01T00:23:26Z', now)).toBe('2h36m34s');
  });

  it('builds rows with related names, statuses and <error> cells', () => {
    const kind = registry.get('WorkloadInstance');
    const objects = [
      { ID: 1, Name: 'a', WorkloadDefinitionID: 7, KubernetesRuntimeInstanceID: 9, Reconciled: true, CreatedAt: '2024-01-01T00:00:00Z' },
      { ID: 2, Name: 'b', WorkloadDefinitionID: 8, KubernetesRuntimeInstanceID: 9, Reconciled: false, CreatedAt: '2024-01-01T00:00:00Z' },
    ];
    const related = {
      objects: new Map<string, Record<string, unknown> | Error>([
        ['WorkloadDefinition/7', { Name: 'def' }],
        ['WorkloadDefinition/8', new Error('WorkloadDefinition 8: gone')],
        ['KubernetesRuntimeInstance/9', { Name: 'rt' }],
      ]),
      ports: new Map(),
    };
    const columns = ['NAME=Name', 'WORKLOAD DEFINITION=@WorkloadDefinitionID', 'KUBERNETES RUNTIME INSTANCE=@KubernetesRuntimeInstanceID', 'STATUS=!status', 'AGE=!age'];
    const { headers, rows, errors } = tableRows(kind, objects, columns, related, new Date('2024-01-01T00:00:10Z'));
    expect(headers).toEqual(['NAME', 'WORKLOAD DEFINITION', 'KUBERNETES RUNTIME INSTANCE', 'STATUS', 'AGE']);
    expect(rows).toEqual([
      ['a', 'def', 'rt', 'Healthy', '10s'],
      ['b', '<error>', 'rt', 'Reconciling', '10s'],
    ]);
    expect(errors).toEqual(['WorkloadDefinition 8: gone']);
  });
});

describe('config file', () => {
  it('reads keys case-insensitively and keeps unknown ones', () => {
    const config = parseConfig('controlplanes:\n  - name: dev\n    apiserver: localhost:80\n    authenabled: false\n    Extra: kept\ncurrentcontrolplane: dev\n', 'c.yaml');
    expect(config.CurrentControlPlane).toBe('dev');
    expect(config.ControlPlanes[0]).toEqual({ Name: 'dev', APIServer: 'localhost:80', AuthEnabled: false, Extra: 'kept' });
    expect(apiBaseUrl(config.ControlPlanes[0]!)).toBe('http://localhost:80');
  });

  it('upserts and makes current; removing clears current', () => {
    const config = upsertControlPlane({ ControlPlanes: [{ Name: 'a' }], CurrentControlPlane: 'a' }, { Name: 'b' });
    expect(config).toEqual({ ControlPlanes: [{ Name: 'a' }, { Name: 'b' }], CurrentControlPlane: 'b' });
    expect(removeControlPlane(config, 'b')).toEqual({ ControlPlanes: [{ Name: 'a' }], CurrentControlPlane: '' });
  });
});

describe('config documents', () => {
  const source = (text: string) => parseDocuments(text, `${samplesDir}/inline.yaml`)[0]!;

  it('maps references, inline values and defaults the runtime', () => {
    const [expanded] = expandDocument(source('GatewayDefinition:\n  Name: g\n  DomainNameDefinitionName: d\n'));
    const [definition] = expanded!.steps.map(toObjectSpec);
    expect(definition!.references).toEqual([{ key: 'DomainNameDefinitionID', target: 'DomainNameDefinition', name: 'd', path: ['GatewayDefinition', 'DomainNameDefinitionName'] }]);
    const [instance] = expandDocument(source('HelmWorkloadInstance:\n  Name: i\n  HelmWorkloadDefinition: {Name: h}\n  Values: "a: 1"\n'))[0]!.steps.map(toObjectSpec);
    expect(instance!.payload).toEqual({ Name: 'i', ValuesDocument: 'a: 1' });
    expect(instance!.defaultRuntimeKey).toBe('KubernetesRuntimeInstanceID');
  });

  it('sends the original’s nested Workload and HelmWorkload configs as one Application, side files read and names kept', () => {
    const [helm] = expandDocument(source('HelmWorkload:\n  Name: h\n  Repo: r\n  Chart: c\n  InstanceValues: "a: 1"\n  DefinitionValuesDocument: values.yaml\n'));
    expect(helm!.steps.map(toObjectSpec).map((spec) => [spec.kind.name, spec.payload])).toEqual([
      ['Application', { Name: 'h', Helm: { Repo: 'r', Chart: 'c', ValuesDocument: 'replicaCount: 2\n', InstanceValuesDocument: 'a: 1' } }],
    ]);
    const [workload] = expandDocument(
      source(
        'Workload:\n  Name: w\n  YAMLDocument: wordpress-manifest.yaml\n  KubernetesRuntimeInstance: {Name: rt}\n  DomainName: {Name: dn, Domain: example.com, Zone: Public, AdminEmail: a@example.com}\n  Gateway: {Name: gw, HttpPorts: [{Port: 80}], ServiceName: web}\n  AwsObjectStorageBucket: {Name: b, AwsAccountName: acct, WorkloadServiceAccountName: sa, WorkloadBucketEnvVar: B}\n  Secret: {Name: s, Data: {k: v}}\n',
      ),
    );
    const [application] = workload!.steps.map(toObjectSpec);
    expect(application!.kind.name).toBe('Application');
    expect(application!.payload).toMatchObject({
      Name: 'w',
      Runtime: { Name: 'rt' },
      DomainName: { Name: 'dn', Domain: 'example.com', Zone: 'Public', AdminEmail: 'a@example.com' },
      Gateway: { Name: 'gw', HttpPorts: [{ Port: 80 }], ServiceName: 'web' },
      AwsObjectStorageBucket: { Name: 'b', AwsAccountName: 'acct', WorkloadServiceAccountName: 'sa', WorkloadBucketEnvVar: 'B' },
      Secret: { Name: 's' },
      SecretData: { k: 'v' },
    });
    expect(String(application!.payload.YAMLDocument)).toContain('kind: Deployment');
  });

  it('accepts the AwsAccountName form of references', () => {
    const [expanded] = expandDocument(source('SecretDefinition:\n  Name: s\n  AwsAccountName: acct\n  Data: {k: v}\n'));
    expect(toObjectSpec(expanded!.steps[0]!).references).toMatchObject([{ key: 'AwsAccountID', target: 'AwsAccount', name: 'acct' }]);
  });

  it('orders objects by their references, keeping file order otherwise', () => {
    const documents = parseDocuments(
      `WorkloadInstance:\n  Name: i\n  WorkloadDefinition: {Name: d}\n---\nWorkloadDefinition:\n  Name: d\n  YAML: x\n---\nKubernetesRuntimeDefinition:\n  Name: k\n  InfraProvider: kind\n`,
      `${samplesDir}/inline.yaml`,
    );
    const specs = documents.flatMap(expandDocument).flatMap((document) => document.steps.map(toObjectSpec));
    expect(dependencyOrder(specs).map((spec) => spec.kind.name)).toEqual(['WorkloadDefinition', 'KubernetesRuntimeDefinition', 'WorkloadInstance']);
  });
});

describe('terminal and completion', () => {
  it('colours only terminals without NO_COLOR', () => {
    expect(colourEnabled({ write: () => true, isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ write: () => true, isTTY: true }, { NO_COLOR: '' })).toBe(false);
    expect(colourEnabled({ write: () => true, isTTY: false }, {})).toBe(false);
    let written = '';
    createTerminal({ write: (text: string) => (written += text), isTTY: true }, { write: () => true }, {}).complete('done');
    expect(written).toBe('\x1b[32mComplete:\x1b[0m done\n');
  });

  it('completes commands, kinds and flags', () => {
    const program = buildProgram();
    expect(completions(program, ['ap'])).toEqual(['apply', 'approve']);
    expect(completions(program, ['get', 'workload-i'])).toEqual(['workload-instances']);
    expect(completions(program, ['create', 'workload', '--c'])).toContain('--config');
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(() => parseDuration('soon')).toThrow('invalid duration');
  });
});

const condition = (Type: string, Status: 'True' | 'False', Reason: string, extra: Record<string, unknown> = {}) => ({ Type, Status, Reason, LastTransitionTime: '2024-01-01T00:00:00Z', ...extra });

describe('what --wait waits for', () => {
  const reconciled = condition('Reconciled', 'True', 'Reconciled', { ObservedGeneration: 2 });

  it('needs a workload instance Healthy and a runtime Ready, other kinds only reconciled', () => {
    const base = { Reconciled: true, Generation: 2, ObservedGeneration: 2 };
    expect(progressOf('WorkloadInstance', { ...base, Status: 'Reconciled', Conditions: [reconciled] })).toEqual({ state: 'pending', reason: 'reconciled; waiting for the agent to report its resources' });
    expect(progressOf('WorkloadInstance', { ...base, Status: 'Down: Deployment web: 0/3 ready', Conditions: [reconciled, condition('Healthy', 'False', 'Down')] })).toEqual({ state: 'pending', reason: 'Down: Deployment web: 0/3 ready' });
    expect(progressOf('WorkloadInstance', { ...base, Status: 'Healthy: 2 resource(s) ready', Conditions: [reconciled, condition('Healthy', 'True', 'Healthy')] })).toEqual({ state: 'done', summary: 'is Healthy: 2 resource(s) ready' });
    expect(progressOf('KubernetesRuntimeInstance', { ...base, Status: 'Ready: Kubernetes v1.34.4', Conditions: [reconciled, condition('Ready', 'True', 'Ready')] })).toEqual({ state: 'done', summary: 'is Ready: Kubernetes v1.34.4' });
    expect(progressOf('WorkloadDefinition', { ...base, Conditions: [reconciled] })).toEqual({ state: 'done', summary: 'reconciled' });
    expect(progressOf('GatewayDefinition', { Reconciled: true })).toEqual({ state: 'done', summary: 'reconciled' });
  });

  it("waits through the controller's errors and waits, and fails on a terminal failure of the current generation only", () => {
    const error = condition('Reconciled', 'False', 'Error', { ObservedGeneration: 2 });
    expect(progressOf('KubernetesRuntimeInstance', { Reconciled: true, Generation: 2, Status: 'Error: cannot reach the cluster', Conditions: [error, condition('Ready', 'True', 'Ready')] })).toEqual({ state: 'pending', reason: 'Error: cannot reach the cluster' });
    const failed = condition('Reconciled', 'False', 'Failed', { ObservedGeneration: 2, Message: 'invalid' });
    expect(progressOf('WorkloadInstance', { Reconciled: false, Generation: 2, Status: 'Failed: invalid', CreationFailed: true, Conditions: [failed] })).toEqual({ state: 'failed', reason: 'Failed: invalid' });
    // Changed since (a new generation): the failure is the old one's, and CreationFailed with it.
    expect(progressOf('WorkloadInstance', { Reconciled: false, Generation: 3, Status: 'Failed: invalid', CreationFailed: true, Conditions: [failed] })).toEqual({ state: 'pending', reason: 'Failed: invalid' });
    expect(progressOf('AwsAccount', { CreationFailed: true, Status: 'no such account' })).toEqual({ state: 'failed', reason: 'no such account' });
    expect(progressOf('WorkloadInstance', { Reconciled: false })).toEqual({ state: 'pending', reason: 'waiting for a controller to reconcile' });
  });
});

describe('workload status, resources and warnings', () => {
  it('shows the Status line in tables where a controller wrote conditions, the original words otherwise', () => {
    const kind = registry.get('WorkloadInstance');
    const long = `Unhealthy: ${'Deployment web: 1/3 ready; '.repeat(8)}`;
    const objects = [
      { ID: 1, Name: 'a', Reconciled: true, Status: 'Down: StatefulSet db: 0/1 ready', Conditions: [condition('Healthy', 'False', 'Down')] },
      { ID: 2, Name: 'b', Reconciled: true, Status: long, Conditions: [condition('Healthy', 'False', 'Unhealthy')] },
      { ID: 3, Name: 'c', Reconciled: true, Status: 'left by a stand-in' },
      { ID: 4, Name: 'd', Reconciled: true, DeletionScheduled: '2024-01-01T00:00:00Z', Status: 'Healthy: 1 resource(s) ready', Conditions: [condition('Healthy', 'True', 'Healthy')] },
    ];
    const { rows } = tableRows(kind, objects, ['NAME=Name', 'STATUS=!status'], { objects: new Map(), ports: new Map() });
    expect(rows.map((row) => row[1])).toEqual(['Down: StatefulSet db: 0/1 ready', `${long.slice(0, 119)}…`, 'Healthy', 'Deleting']);
  });

  it('splits the Status line into the status and its reason', () => {
    expect(statusParts({ Reconciled: true, Status: 'Unhealthy: Deployment web: 1/3 ready', Conditions: [condition('Healthy', 'False', 'Unhealthy')] })).toEqual({ status: 'Unhealthy', reason: 'Deployment web: 1/3 ready' });
    expect(statusParts({ Reconciled: true, Status: 'Reconciled', Conditions: [condition('Reconciled', 'True', 'Reconciled')] })).toEqual({ status: 'Reconciled' });
    expect(statusParts({ Reconciled: false })).toEqual({ status: 'Reconciling', reason: 'waiting for a controller to reconcile it' });
  });

  it("judges each resource from its live object, in the definition's order", () => {
    const deployment = (ready: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', generation: 1 }, spec: { replicas: 3 }, status: { observedGeneration: 1, readyReplicas: ready, updatedReplicas: 3, replicas: 3 } });
    expect(resourceReadiness({ Reconciled: true, RuntimeDefinition: deployment(3), LastOperation: 'MODIFIED' })).toBe('Ready');
    expect(resourceReadiness({ Reconciled: true, RuntimeDefinition: deployment(1) })).toBe('1/3 ready');
    expect(resourceReadiness({ Reconciled: true, RuntimeDefinition: deployment(1), LastOperation: 'DELETED' })).toBe('missing');
    expect(resourceReadiness({ Reconciled: true })).toBe('not reported yet');
    expect(resourceReadiness({ Reconciled: false })).toBe('not applied yet');
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, status: { phase: 'Lost' } };
    expect(resourceReadiness({ Reconciled: true, RuntimeDefinition: claim })).toBe('Failed: its volume is lost');

    const rows = resourceRows([
      { ID: 30, ResourceKey: 'apps/Deployment/ns-1/web', WorkloadResourceDefinitionID: 11, Reconciled: true, RuntimeDefinition: deployment(0), LastOperation: 'MODIFIED' },
      { ID: 31, ResourceKey: '/Service/ns-1/web', WorkloadResourceDefinitionID: 10, Reconciled: true, RuntimeDefinition: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} }, LastOperation: 'ADDED' },
      { ID: 32, ResourceKey: '/Namespace//ns-1', Reconciled: false },
    ]);
    expect(rows).toEqual([
      { kind: 'Namespace', name: 'ns-1', ready: 'not applied yet', lastOperation: '-' },
      { kind: 'Service', name: 'ns-1/web', ready: 'Ready', lastOperation: 'ADDED' },
      { kind: 'Deployment', name: 'ns-1/web', ready: '0/3 ready', lastOperation: 'MODIFIED' },
    ]);
  });

  it('shows each warning once with its count, newest first, at most ten', () => {
    const at = (second: number) => `2024-01-01T00:00:${String(second).padStart(2, '0')}Z`;
    const events = [
      { type: 'Warning', reason: 'FailedScheduling', message: '0/2 nodes are available', time: at(1), count: 1 },
      { type: 'Warning', reason: 'DriftDetected', message: 'Deployment web was changed', time: at(5), count: 2 },
      { type: 'Warning', reason: 'FailedScheduling', message: '0/2 nodes are available', time: at(9), count: 3 },
      ...Array.from({ length: 12 }, (_, index) => ({ type: 'Warning', reason: 'BackOff', message: `restart ${index}`, time: at(20 + index), count: 1 })),
    ];
    const { events: shown, omitted } = warningDigest(events);
    expect(shown).toHaveLength(10);
    expect(shown[0]).toMatchObject({ message: 'restart 11' });
    expect(omitted).toBe(4);
    const few = warningDigest(events.slice(0, 3));
    expect(few.events).toEqual([
      { type: 'Warning', reason: 'FailedScheduling', message: '0/2 nodes are available', time: at(9), count: 4 },
      { type: 'Warning', reason: 'DriftDetected', message: 'Deployment web was changed', time: at(5), count: 2 },
    ]);

    const text = describeText(
      {
        kind: registry.get('WorkloadInstance'),
        object: { Name: 'web', CreatedAt: at(0), UpdatedAt: at(1), Reconciled: true, Status: 'Down: Deployment web: 0/3 ready', Conditions: [condition('Healthy', 'False', 'Down')] },
        associated: [{ kind: 'WorkloadDefinition', name: 'web' }],
        resources: [{ kind: 'Deployment', name: 'ns-1/web', ready: '0/3 ready', lastOperation: 'MODIFIED' }],
        warnings: { events: few.events, omitted: 1 },
      },
      new Date(at(19)),
    );
    expect(text).toBe(
      [
        '* WorkloadInstance Name: web',
        `* Created: ${at(0)}`,
        `* Last Modified: ${at(1)}`,
        '* Associated WorkloadDefinition: web',
        '* Workload Status: Down',
        '* Workload Status Reason: Deployment web: 0/3 ready',
        '* Resources (1):',
        'KIND          NAMESPACE/NAME    READY        LAST OPERATION',
        'Deployment    ns-1/web          0/3 ready    MODIFIED',
        'Failed & Warning Events:',
        'TYPE       REASON              MESSAGE                                 AGE',
        'Warning    FailedScheduling    0/2 nodes are available (4 times)       10s',
        'Warning    DriftDetected       Deployment web was changed (2 times)    14s',
        '(1 older warning(s) not shown)',
      ].join('\n'),
    );
  });
});

describe('kubeconfigs', () => {
  const write = (user: Record<string, unknown>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const path = join(dir, 'config');
    writeFileSync(path, JSON.stringify({
      'current-context': 'dev',
      contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'dev' } }],
      clusters: [{ name: 'dev', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'dev', user }],
    }));
    writeFileSync(join(dir, 'token'), 'token-from-file\n');
    return path;
  };

  it('credentials threeport can keep: a client certificate and key, a token, or a token file', () => {
    const pem = Buffer.from('-----BEGIN X-----\n').toString('base64');
    expect(readClusterConnection(write({ 'client-certificate-data': pem, 'client-key-data': pem }))).toMatchObject({ APIEndpoint: 'https://127.0.0.1:6443', Certificate: '-----BEGIN X-----\n' });
    expect(readClusterConnection(write({ token: 'abc' })).ConnectionToken).toBe('abc');
    expect(readClusterConnection(write({ 'token-file': 'token' })).ConnectionToken).toBe('token-from-file');
  });

  it('a login plugin is refused, saying what to use instead', () => {
    expect(() => readClusterConnection(write({ exec: { command: 'aws', args: ['eks', 'get-token'] } }))).toThrow(/user dev of context dev runs the command aws to log in; threeport needs credentials it can keep.*kubectl create token/);
    expect(() => readClusterConnection(write({ 'auth-provider': { name: 'oidc' } }))).toThrow(/logs in with the oidc auth provider/);
    expect(() => readClusterConnection(write({}))).toThrow(/has no client certificate or token/);
  });
});
