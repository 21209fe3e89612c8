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
