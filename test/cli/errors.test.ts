/** Every way tptctl can be used wrongly ends with a clear message on stderr, exit code 1 and no stack trace. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../src/local-runtime/ports.ts';
import { startApi, type ApiHarness } from '../support/control-plane.ts';
import { ensureBundle, sample, Tptctl } from './support.ts';

const noStack = (stderr: string): void => {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).toMatch(/^Error: /m);
};

describe('tptctl errors', () => {
  const tptctl = new Tptctl();
  let api: ApiHarness;
  const file = (name: string, text: string): string => {
    const path = join(tptctl.dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    await ensureBundle();
    api = await startApi({ database: 'pglite' });
    tptctl.useControlPlane('errors', api.url, api.encryptionKey);
  });

  it('bad YAML: file and line', async () => {
    const path = file('bad.yaml', 'WorkloadDefinition:\n  Name: x\n  YAMLDocument: [unclosed\n');
    const { stderr, stdout } = await tptctl.fails(['create', 'workload-definition', '-c', path]);
    expect(stderr).toContain(`Error: ${path}:4: invalid YAML:`);
    expect(stdout).toBe('');
    noStack(stderr);
  });

  it('unknown key: file, line, field and the likely intended key', async () => {
    const path = file('unknown.yaml', 'WorkloadDefinition:\n  Name: x\n  yamlDocument: a.yaml\n');
    const { stderr } = await tptctl.fails(['create', 'workload-definition', '-c', path]);
    expect(stderr).toContain(`${path}:3: WorkloadDefinition.yamlDocument: unknown field "yamlDocument" in WorkloadDefinition (did you mean YAMLDocument?)`);
    noStack(stderr);
    const nested = file('nested.yaml', `Workload:\n  Name: w\n  YAMLDocument: ${sample('wordpress-manifest.yaml')}\n  Gateway:\n    Name: g\n    HttpPorts:\n      - Port: 80\n        Tls: true\n`);
    expect((await tptctl.fails(['apply', '-f', nested])).stderr).toContain(`${nested}:8: Workload.Gateway.HttpPorts[0].Tls: unknown field "Tls"`);
    const kind = file('kind.yaml', 'WorkloadDefinitions:\n  Name: x\n');
    expect((await tptctl.fails(['apply', '-f', kind])).stderr).toContain(`${kind}:1: WorkloadDefinitions: unknown kind "WorkloadDefinitions"`);
    const type = file('type.yaml', 'KubernetesRuntimeInstance:\n  Name: x\n  Location: Local\n  DefaultRuntime: "yes"\n  KubernetesRuntimeDefinition: {Name: d}\n');
    expect((await tptctl.fails(['apply', '-f', type])).stderr).toContain(`${type}:4: KubernetesRuntimeInstance.DefaultRuntime: must be true or false`);
  });

  it('missing side file: resolved relative to the config file', async () => {
    const path = file('missing-side.yaml', 'WorkloadDefinition:\n  Name: x\n  YAMLDocument: manifests/missing.yaml\n');
    const { stderr } = await tptctl.fails(['create', 'workload-definition', '-c', path]);
    expect(stderr).toContain(`${path}:3: WorkloadDefinition.YAMLDocument: file manifests/missing.yaml does not exist (looked for ${join(tptctl.dir, 'manifests/missing.yaml')}`);
    noStack(stderr);
  });

  it('missing config file and missing required field', async () => {
    expect((await tptctl.fails(['create', 'workload-definition', '-c', join(tptctl.dir, 'nope.yaml')])).stderr).toContain('does not exist');
    const path = file('required.yaml', 'WorkloadDefinition:\n  Name: x\n');
    expect((await tptctl.fails(['create', 'workload-definition', '-c', path])).stderr).toContain(`${path}:1: WorkloadDefinition: missing required field YAMLDocument or YAML`);
  });

  it('unknown names: the object to describe or delete, and references in a config', async () => {
    const { stderr } = await tptctl.fails(['describe', 'workload-instance', '--name', 'nope']);
    expect(stderr).toContain('Error: workload instance nope not found');
    expect((await tptctl.fails(['delete', 'workload-definition', '--name', 'nope'])).stderr).toContain('workload definition nope not found');
    const path = file('ref.yaml', 'WorkloadInstance:\n  Name: y\n  WorkloadDefinition:\n    Name: nope\n  KubernetesRuntimeInstance: {Name: r}\n');
    expect((await tptctl.fails(['create', 'workload-instance', '-c', path])).stderr).toContain(`${path}:3: WorkloadInstance.WorkloadDefinition: WorkloadDefinition "nope" does not exist`);
    const noRuntime = file('no-runtime.yaml', 'WorkloadInstance:\n  Name: y\n  WorkloadDefinition:\n    Name: nope\n');
    await tptctl.ok(['create', 'workload-definition', '-c', sample('workload-definition.yaml')]);
    const defaultless = file('defaultless.yaml', 'WorkloadInstance:\n  Name: y\n  WorkloadDefinition: {Name: wordpress}\n');
    expect((await tptctl.fails(['create', 'workload-instance', '-c', defaultless])).stderr).toContain('no KubernetesRuntimeInstance given and the control plane has no default runtime');
    expect((await tptctl.fails(['create', 'workload-instance', '-c', noRuntime])).code).toBe(1);
  });

  it('creating what exists points at apply', async () => {
    const { stderr } = await tptctl.fails(['create', 'workload-definition', '-c', sample('workload-definition.yaml')]);
    expect(stderr).toContain('use tptctl apply to update it');
  });

  it('wrong kind for the command, bad flags, missing subcommand, bad output format', async () => {
    expect((await tptctl.fails(['create', 'workload', '-c', sample('workload-definition.yaml')])).stderr).toContain('this command takes a Workload config, but the file has WorkloadDefinition');
    expect((await tptctl.fails(['describe', 'workload-definition', '-n', 'a', '-c', 'b'])).stderr).toContain('name and path to config file provided - provide only one');
    expect((await tptctl.fails(['describe', 'workload-definition'])).stderr).toContain('must provide either workload definition name');
    expect((await tptctl.fails(['get'])).stderr).toContain('missing subcommand - use tptctl get -h for usage info');
    expect((await tptctl.fails(['get', 'workload-definitions', '-o', 'xml'])).stderr).toContain('invalid output format "xml"');
    expect((await tptctl.fails(['get', 'workload-defnitions'])).stderr).toMatch(/unknown command|too many arguments/);
  });

  it('unreachable API', async () => {
    const other = new Tptctl();
    const port = await freePort();
    other.useControlPlane('gone', `http://127.0.0.1:${port}`);
    const { stderr } = await other.fails(['get', 'workloads']);
    expect(stderr).toContain(`Error: cannot reach the threeport API at http://127.0.0.1:${port}: connection refused`);
    expect(stderr).toContain('Info: is the control plane running? start one with: tptctl up');
    noStack(stderr);
  });

  it('two control planes in the config: needs a current one, -i picks, config commands switch', async () => {
    const other = new Tptctl();
    const port = await freePort();
    writeFileSync(
      other.configPath,
      // Lower-cased top-level keys, as viper may write them.
      stringify({ controlplanes: [{ Name: 'errors', APIServer: api.url.replace('http://', '') }, { Name: 'down', APIServer: `127.0.0.1:${port}` }] }),
    );
    expect((await other.fails(['get', 'workloads'])).stderr).toContain('no current control plane is set');
    expect(await other.ok(['-i', 'errors', 'get', 'workload-definitions'])).toContain('wordpress');
    const listed = await other.run(['config', 'get-control-planes']);
    expect(listed.stderr).toContain("Warning: current control plane is not set - set it with 'tptctl config current-control-plane --control-plane-name <control-plane-name>'");
    expect(listed.stdout).toMatch(/NAME\s+PROVIDER\s+CURRENT CONTROL PLANE\nerrors\s+false\ndown\s+false/);
    expect(await other.ok(['config', 'current-control-plane', '-n', 'errors'])).toContain('Complete: Threeport control plane errors set as the current control plane');
    expect(await other.ok(['get', 'workload-definitions'])).toContain('wordpress');
    expect((await other.fails(['config', 'current-control-plane', '-n', 'nope'])).stderr).toContain('control plane "nope" is not in');
    writeFileSync(other.configPath, stringify({ ControlPlanes: [{ Name: 'a', APIServer: 'x:1' }, { Name: 'a', APIServer: 'y:1' }], CurrentControlPlane: 'a' }));
    expect((await other.fails(['get', 'workloads'])).stderr).toContain('lists control plane "a" twice');
  });

  it('colour only on a terminal and never with NO_COLOR', async () => {
    const { stderr } = await tptctl.fails(['describe', 'workload-instance', '--name', 'nope']);
    expect(stderr).not.toContain('\x1b[');
  });
});
