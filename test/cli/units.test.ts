/** The pure parts of tptctl: tables, ages, the config file, YAML specs, dependency order, completion. */
import { describe, expect, it } from 'vitest';
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
    const [expanded] = expandDocument(source('HelmWorkload:\n  Name: h\n  Repo: r\n  Chart: c\n  InstanceValues: "a: 1"\n  DefinitionValuesDocument: values.yaml\n'));
    const [definition, instance] = expanded!.steps.map(toObjectSpec);
    expect(definition!.payload).toEqual({ Name: 'h', Repo: 'r', Chart: 'c', ValuesDocument: 'replicaCount: 2\n' });
    expect(instance!.payload).toEqual({ Name: 'h', ValuesDocument: 'a: 1' });
    expect(instance!.references).toEqual([{ key: 'HelmWorkloadDefinitionID', target: 'HelmWorkloadDefinition', name: 'h', path: ['HelmWorkload', 'Name'] }]);
    expect(instance!.defaultRuntimeKey).toBe('KubernetesRuntimeInstanceID');
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
    expect(completions(program, ['ap'])).toEqual(['apply']);
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

describe('workload status', () => {
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
});
