/**
 * create / get / describe / delete for every definition, instance and abstraction, generated
 * from the model registry and the abstraction table: one generic implementation, no per-kind code.
 */
import { Command, Option } from 'commander';
import type { ApiClient } from '../../client/api-client.ts';
import type { ApiObject, Kind } from '../../model/kind.ts';
import { registry } from '../../model/registry.ts';
import { REDACTED_PLACEHOLDER } from '../../model/fields.ts';
import type { CliContext } from '../context.ts';
import { abstractions, isDocumentKind, type Abstraction } from '../documents/expand.ts';
import { loadConfigFiles } from '../documents/load.ts';
import { CliError } from '../errors.ts';
import { commandName, humanName, pluralCommandName, withArticle } from '../kind-names.ts';
import { abstractionColumns, defaultColumns, kindColumns } from '../output/columns.ts';
import { describeText, gatherDescription } from '../output/describe.ts';
import { fetchRelated, tableRows } from '../output/get-table.ts';
import { parseOutputFormat, redact, renderData } from '../output/render.ts';
import { supportServiceRows } from '../output/support-services.ts';
import { formatAge, renderTable } from '../output/table.ts';
import { createAll } from '../operations/create.ts';
import { deleteAll, deletionError, type DeleteTarget } from '../operations/delete.ts';
import { parseDuration, waitFor } from '../operations/wait.ts';
import { action, examples } from './run.ts';

/** A thing the object commands act on: a kind, or an abstraction over a definition and an instance. */
interface Target {
  typeName: string;
  kind?: Kind;
  abstraction?: Abstraction;
  /** Kind the `get` table lists. */
  listed: Kind;
  columns: readonly string[];
}

export function targets(): Target[] {
  const kinds = registry.kinds.filter(isDocumentKind).map((kind) => ({
    typeName: kind.name,
    kind,
    listed: kind,
    columns: kindColumns[kind.name] ?? defaultColumns(kind.controller !== undefined),
  }));
  const groups = abstractions.map((abstraction) => ({
    typeName: abstraction.name,
    abstraction,
    listed: registry.get(abstraction.instance),
    columns: abstractionColumns[abstraction.name] ?? defaultColumns(true),
  }));
  return [...kinds, ...groups];
}

const sampleFile = (typeName: string): string => `${commandName(typeName)}.yaml`;

function statusColumnHelp(listed: Kind): string {
  if (listed.name !== 'WorkloadInstance' && listed.name !== 'HelmWorkloadInstance') return '';
  return `
STATUS is the instance's Status line: Healthy: 6 resource(s) ready, Unhealthy: Deployment web:
1/3 ready, Down: StatefulSet db: 0/1 ready (from its resources in the cluster), or its
controller's Waiting: …, Error: … (retried) or Failed: … (not retried until it changes);
Reconciling before a controller has looked at it. tptctl describe shows each resource.`;
}

function createExamples(single: string, typeName: string): string[] {
  if (typeName === 'Workload') {
    return ['tptctl create workload -c samples/wordpress-workload.yaml --wait', 'tptctl create workload -c wordpress.yaml --wait --timeout 10m   # then: tptctl get workloads'];
  }
  if (typeName === 'Application') {
    return ['tptctl create application -c samples/application.yaml --wait', 'tptctl describe application shop   # its parts, where it runs and why'];
  }
  return [`tptctl create ${single} --config ${sampleFile(typeName)}`, `tptctl create ${single} -c ${sampleFile(typeName)} --wait --timeout 10m`];
}

interface WaitOptions {
  wait?: boolean;
  timeout: string;
}

const waitOptions = (command: Command, until: string): Command =>
  command.option('--wait', `wait until the objects are ${until}`).option('--timeout <duration>', 'how long --wait waits, e.g. 90s, 5m', '5m');

/** What `create --wait` waits for, for every kind: see operations/progress.ts. */
const createWaitHelp = `
--wait waits until each object created is ready: reconciled by its controller and, for a
workload instance, Healthy (every resource ready in the cluster, as threeport's agent reports
it); for a Kubernetes runtime instance, Ready (reachable, threeport's components installed); for
an application (and the original's Workload config, sent as one), Healthy: every part ready.
While it waits it shows each object's Status line as it changes (a spinner on a terminal, a
line per change otherwise); it ends with an error as soon as a controller gives up (Failed: …),
and after --timeout with what it was still waiting for and why (e.g. Down: StatefulSet db: 0/1
ready).`;

const controlPlaneLabel = (context: CliContext): string => context.controlPlane().Name;

// ---- create ----------------------------------------------------------------------------------

async function create(target: Target, options: { config: string } & WaitOptions, context: CliContext): Promise<void> {
  const { terminal } = context;
  const { specs, warnings } = loadConfigFiles([options.config], { only: target.typeName });
  for (const warning of warnings) terminal.warning(warning);
  const client = context.client();
  const created = await createAll(client, specs, terminal, target.abstraction !== undefined);
  if (options.wait) {
    await waitFor(client, created.map(({ kind, object }) => ({ kind, id: object.ID as number, name: String(object.Name) })), {
      until: 'ready',
      timeoutMs: parseDuration(options.timeout),
      terminal,
      announce: true,
    });
  }
  const names = [...new Set(specs.filter((spec) => target.abstraction || spec.kind.name === target.typeName).map((spec) => spec.name))];
  for (const name of target.abstraction ? [String(specs[0]?.name)] : names) terminal.complete(`${humanName(target.typeName)} ${name} created`);
}

// ---- get -------------------------------------------------------------------------------------

async function get(target: Target, name: string | undefined, options: { output?: string }, context: CliContext): Promise<void> {
  const format = parseOutputFormat(options.output);
  const client = context.client();
  const objects = await client.kind(target.listed.name).listAll(name ? { name } : {});
  if (format !== 'table') {
    context.terminal.print(renderData(objects.map((object) => redact(target.listed, object)), format));
    return;
  }
  if (objects.length === 0) {
    context.terminal.info(`No ${humanName(target.typeName)}s currently managed by ${controlPlaneLabel(context)} threeport control plane`);
    return;
  }
  const related = await fetchRelated(client, target.listed, objects, target.columns);
  const { headers, rows, errors } = tableRows(target.listed, objects, target.columns, related);
  context.terminal.print(renderTable(headers, rows));
  if (errors.length > 0) throw new CliError(`could not look up every related object:\n  ${errors.join('\n  ')}`);
}

// ---- describe --------------------------------------------------------------------------------

interface NameOrConfig {
  name?: string;
  config?: string;
}

function nameFrom(target: Target, options: NameOrConfig, verb: string): string {
  if (options.name && options.config) throw new CliError(`${humanName(target.typeName)} name and path to config file provided - provide only one`);
  if (options.name) return options.name;
  if (!options.config) throw new CliError(`must provide either ${humanName(target.typeName)} name (--name) or path to config file (--config) to ${verb}`);
  const { documents } = loadConfigFiles([options.config], { only: target.typeName, buildSpecs: false });
  const name = documents[0]?.steps.find((step) => step.kind.name === target.typeName)?.values.Name ?? documents[0]?.steps[0]?.values.Name;
  if (typeof name !== 'string') throw new CliError(`${options.config}: the ${target.typeName} has no Name`);
  return name;
}

async function findOrFail(client: ApiClient, kind: Kind, name: string): Promise<ApiObject> {
  const object = await client.kind(kind.name).findByName(name);
  if (!object) throw new CliError(`${humanName(kind.name)} ${name} not found`, { hint: `list them with: tptctl get ${kind.plural}` });
  return object;
}

/** The kind `describe` shows for a target: the kind itself, or an abstraction's instance (named like the abstraction). */
function describedKind(target: Target): Kind | undefined {
  if (target.kind) return target.kind;
  // A domain name's instance is named after its workload, not after the domain name.
  if (target.abstraction && target.abstraction.name !== 'DomainName') return registry.get(target.abstraction.instance);
  return undefined;
}

function describedParts(kind: Kind): string {
  if (kind.name === 'WorkloadInstance') return 'its status and reason, its resources in the cluster with their readiness, and warning events';
  return kind.controller ? 'its status, status reason and warning events' : 'what it is associated with and its warning events';
}

function describeHelp(single: string, target: Target, kind: Kind): string {
  const lines = [`tptctl describe ${single} my-${single}`, `tptctl describe ${single} -n my-${single} -o json`, `tptctl describe ${single} -c ${sampleFile(target.typeName)}`];
  if (kind.name !== 'WorkloadInstance') return examples(lines);
  return `
Shows the instance's status (the Status line of its conditions: Healthy, Unhealthy or Down with
which resource is how, or the controller's Waiting, Error or Failed), each of its resources with
its kind, namespace/name, readiness (Ready, 1/3 ready, waiting for a volume, missing, ...) and the
last operation the agent saw, then its warning events — the cluster's (e.g. FailedScheduling)
and its controller's (e.g. DriftDetected, FailedCreate) — each once, newest first.${examples(lines)}`;
}

async function describe(target: Target, kind: Kind, options: NameOrConfig & { positional?: string; output?: string; field?: string }, context: CliContext): Promise<void> {
  if (options.positional !== undefined && options.name !== undefined && options.positional !== options.name) {
    throw new CliError(`two names given: ${options.positional} and --name ${options.name}; give one`);
  }
  const name = nameFrom(target, { ...options, ...(options.positional !== undefined && { name: options.positional }) }, 'describe');
  const client = context.client();
  const object = await findOrFail(client, kind, name);
  if (options.field) {
    context.terminal.print(fieldValue(kind, object, options.field, context));
    return;
  }
  const format = parseOutputFormat(options.output);
  if (format !== 'table') {
    context.terminal.print(renderData(redact(kind, object), format));
    return;
  }
  context.terminal.print(describeText(await gatherDescription(client, kind, object)));
}

/** `-f Field`: one field's value; encrypted ones decrypted locally when the config has the key. */
function fieldValue(kind: Kind, object: ApiObject, requested: string, context: CliContext): string {
  const field = kind.payloadKeys.get(requested.toLowerCase()) ?? (['id', 'createdat', 'updatedat', 'version'].includes(requested.toLowerCase()) ? requested : undefined);
  if (!field) throw new CliError(`${kind.name} has no field ${requested}; fields: ${Object.keys(kind.fields).join(', ')}`);
  const key = kind.fields[field] ? kind.jsonKey(field) : Object.keys(object).find((k) => k.toLowerCase() === requested.toLowerCase()) ?? requested;
  const value = object[key];
  if (value === undefined || value === null) return 'no value';
  if (kind.fields[field]?.encrypted) {
    const cipher = context.cipher();
    if (!cipher || value === REDACTED_PLACEHOLDER) return REDACTED_PLACEHOLDER;
    return typeof value === 'string' ? cipher.decrypt(value) : JSON.stringify(value);
  }
  return typeof value === 'object' ? JSON.stringify(value, null, 2) : String(value);
}

// ---- delete ----------------------------------------------------------------------------------

async function remove(target: Target, options: NameOrConfig & WaitOptions, context: CliContext): Promise<void> {
  let targetsToDelete: DeleteTarget[];
  if (options.config && !options.name) {
    const { documents } = loadConfigFiles([options.config], { only: target.typeName, buildSpecs: false });
    targetsToDelete = documents.flatMap((document) => document.steps.map((step) => ({ kind: step.kind.name, name: String(step.values.Name) }))).reverse();
  } else {
    const name = nameFrom(target, options, 'delete');
    targetsToDelete = target.abstraction ? await abstractionParts(context.client(), target.abstraction, name) : [{ kind: target.typeName, name }];
  }
  const client = context.client();
  const problems = await deleteAll(client, targetsToDelete, {
    terminal: context.terminal,
    wait: Boolean(options.wait),
    timeoutMs: parseDuration(options.timeout),
    announce: target.abstraction !== undefined || targetsToDelete.length > 1,
  });
  const label = `${humanName(target.typeName)} ${targetsToDelete[targetsToDelete.length - 1]?.name ?? ''}`;
  if (problems.length > 0) throw deletionError(label, problems);
  if (target.abstraction || targetsToDelete.length > 1) context.terminal.complete(`${label} deleted`);
}

/** What deleting an abstraction by name deletes: its Application (which removes what it made), or — made by hand or an older tptctl — its definition and instance. */
async function abstractionParts(client: ApiClient, abstraction: Abstraction, name: string): Promise<DeleteTarget[]> {
  if (abstraction.asApplication && (await client.kind('Application').findByName(name))) return [{ kind: 'Application', name }];
  return [{ kind: abstraction.instance, name }, { kind: abstraction.definition, name }];
}

// ---- registration ----------------------------------------------------------------------------

const outputOption = () => new Option('-o, --output <format>', 'output format: table, json or yaml (plain = table)').default('table');

export function registerObjectCommands(program: Command, withSubcommands = true): void {
  const createCommand = program.command('create').description('Create threeport objects from a config file');
  const getCommand = program.command('get').description('List threeport objects');
  const describeCommand = program.command('describe').description('Show the details and status of one threeport object');
  const deleteCommand = program.command('delete').description('Delete threeport objects');
  for (const parent of [createCommand, getCommand, describeCommand, deleteCommand]) {
    parent.addHelpText('after', examples([`tptctl ${parent.name()} ${parent.name() === 'get' ? 'workload-instances' : 'workload-instance'} --help`]));
  }

  for (const target of withSubcommands ? targets() : []) {
    const single = commandName(target.typeName);
    const plural = pluralCommandName(target.typeName);
    const human = humanName(target.typeName);
    const what = target.abstraction
      ? `${withArticle(human)}: its ${humanName(target.abstraction.definition)} and ${humanName(target.abstraction.instance)} (and what it nests) in one config`
      : withArticle(human);

    waitOptions(
      createCommand
        .command(single)
        .alias(plural)
        .description(`Create ${what}`)
        .requiredOption('-c, --config <file>', `path to the ${target.typeName} config file`),
      'ready (see below)',
    )
      .addHelpText('after', `${createWaitHelp}${examples(createExamples(single, target.typeName))}`)
      .action(action<{ config: string } & WaitOptions>((options, context) => create(target, options, context)));

    getCommand
      .command(plural)
      .alias(single)
      .description(target.abstraction ? `List ${human}s (one row per ${humanName(target.abstraction.instance)})` : `List ${human}s`)
      .argument('[name]', 'only the object with this name')
      .addOption(outputOption())
      .addHelpText('after', `${target.columns.includes('STATUS=!status') ? statusColumnHelp(target.listed) : ''}${examples([`tptctl get ${plural}`, `tptctl get ${plural} -o yaml`])}`)
      .action(action<{ output?: string }>((options, context, args) => get(target, args[0], options, context)));

    const described = describedKind(target);
    if (described) {
      describeCommand
        .command(single)
        .alias(plural)
        .description(target.abstraction ? `Describe ${withArticle(human)}: its ${humanName(described.name)} (status, resources, warning events)` : `Describe ${what}: ${describedParts(described)}`)
        .argument('[name]', `name of the ${human} (or use --name)`)
        .option('-n, --name <name>', `name of the ${human}`)
        .option('-c, --config <file>', `path to the ${target.typeName} config file`)
        .addOption(outputOption())
        .option('-f, --field <field>', 'print only this field (e.g. Name, ID, Outputs); encrypted fields are decrypted with the config\'s key')
        .addHelpText('after', describeHelp(single, target, described))
        .action(action<NameOrConfig & { output?: string; field?: string }>((options, context, args) => describe(target, described, { ...options, ...(args[0] !== undefined && { positional: args[0] }) }, context)));
    }

    waitOptions(
      deleteCommand
        .command(single)
        .alias(plural)
        .description(`Delete ${what}`)
        .option('-n, --name <name>', target.abstraction ? `name of the ${human} (${target.abstraction.asApplication ? 'its application, which removes what it made; or ' : ''}its definition and instance)` : `name of the ${human}`)
        .option('-c, --config <file>', `path to the ${target.typeName} config file`),
      'gone (their controllers cleaned up)',
    )
      .addHelpText('after', examples([`tptctl delete ${single} --config ${sampleFile(target.typeName)}`, `tptctl delete ${single} --name my-${single} --wait`]))
      .action(action<NameOrConfig & WaitOptions>((options, context) => remove(target, options, context)));
  }
  if (withSubcommands) registerSupportServices(getCommand);
}

function registerSupportServices(getCommand: Command): void {
  getCommand
    .command('support-services')
    .alias('support-service')
    .description('List the support services threeport installed on runtimes (Gateway API and Envoy Gateway, cert-manager, external-dns)')
    .option('-r, --runtime <name>', 'only those of this Kubernetes runtime instance')
    .addOption(outputOption())
    .addHelpText('after', `\nThey are installed as Helm workload instances when a gateway or domain name first needs\nthem; tptctl describe kubernetes-runtime-instance shows a runtime's.\n${examples(['tptctl get support-services', 'tptctl get support-services --runtime my-runtime -o yaml'])}`)
    .action(
      action<{ runtime?: string; output?: string }>(async (options, context) => {
        const format = parseOutputFormat(options.output);
        const client = context.client();
        let runtimeId: number | undefined;
        if (options.runtime) {
          const runtime = await client.kind('KubernetesRuntimeInstance').findByName(options.runtime);
          if (!runtime) throw new CliError(`no Kubernetes runtime instance named ${options.runtime}`);
          runtimeId = Number(runtime.ID);
        }
        const rows = await supportServiceRows(client, runtimeId);
        if (format !== 'table') {
          context.terminal.print(renderData(rows, format));
          return;
        }
        if (rows.length === 0) {
          context.terminal.info(`No support services installed${options.runtime ? ` on runtime ${options.runtime}` : ''}: they are installed when a gateway or domain name first needs them`);
          return;
        }
        context.terminal.print(renderTable(['RUNTIME', 'SERVICE', 'CHART', 'NAMESPACE', 'STATUS', 'AGE'], rows.map((row) => [row.runtime, row.service, row.chart, row.namespace, row.status, formatAge(row.createdAt)])));
      }),
    );
}
