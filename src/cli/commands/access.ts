/**
 * Who may use a control plane: users with client certificates (tptctl user add|list|remove,
 * tptctl credentials rotate), the roles bound to them and their groups (tptctl role), bearer tokens
 * for CI and automation (tptctl token), and tptctl whoami. Keys are made here; only public keys
 * and token hashes reach the API.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { isDuplicate, type ApiClient } from '../../client/api-client.ts';
import { ADMINS_GROUP, newToken } from '../../auth/identities.ts';
import { parseLifetime } from '../../auth/lifetime.ts';
import { generateKeyPair, privateKeyPem, publicKeyPem } from '../../auth/x509.ts';
import { namesIn } from '../../model/kinds/access.ts';
import { personRoles, roleNames } from '../../model/roles.ts';
import { toBase64 } from '../config/credentials.ts';
import { readConfig, upsertControlPlane, writeConfig, type ControlPlaneEntry } from '../config/threeport-config.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { renderTable } from '../output/table.ts';
import { action, examples } from './run.ts';

const HOUR_MS = 60 * 60 * 1000;

function lifetimeOf(text: string, what: string): number {
  const lifetime = parseLifetime(text);
  if (lifetime === undefined) throw new CliError(`invalid ${what} "${text}": a number of hours or days, e.g. 12h or 30d`);
  return lifetime;
}

function authEntry(context: CliContext): ControlPlaneEntry {
  const entry = context.controlPlane();
  if (!entry.AuthEnabled) throw new CliError(`control plane "${entry.Name}" runs without auth: it has no users, certificates or tokens`, { hint: 'start one with auth: tptctl up --auth-enabled' });
  return entry;
}

interface IssuedCertificate {
  Certificate: string;
  CACert: string;
  NotAfter: string;
}

/** A key made here, its certificate signed by the control plane's CA. */
async function certificateFor(client: ApiClient, userId: number, options: { lifetimeMs?: number; revokeOthers?: boolean }): Promise<{ issued: IssuedCertificate; key: string }> {
  const keys = generateKeyPair();
  const body = await client.request('POST', `/v0/users/${userId}/certificates`, {
    PublicKey: publicKeyPem(keys.publicKey),
    ...(options.lifetimeMs && { LifetimeHours: Math.ceil(options.lifetimeMs / HOUR_MS) }),
    ...(options.revokeOthers && { RevokeOthers: true }),
  });
  const issued = body.Data?.[0] as unknown as IssuedCertificate | undefined;
  if (!issued?.Certificate) throw new CliError('the API answered without a certificate');
  return { issued, key: privateKeyPem(keys.privateKey) };
}

const credentialOf = (entry: ControlPlaneEntry, issued: IssuedCertificate, key: string) => ({ Name: entry.Name, ClientCert: toBase64(issued.Certificate), ClientKey: toBase64(key) });

/** The API's "name exists" said as what to do about it. */
async function created<T>(write: Promise<T>, what: string, remedy: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isDuplicate(error)) throw new CliError(`${what} exists already`, { hint: remedy });
    throw error;
  }
}

const listOf = (text: string | undefined): string[] => (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);

/** A binding's or token's runtimes as a table shows them. */
const runtimesOf = (object: Record<string, unknown>): string => namesIn(object.Runtimes).join(',') || 'all';

/** Binds `role` to `subject` (user:… or group:…), for `runtimes` only when some are given; says where, for messages. */
async function bindRole(client: ApiClient, role: string, subject: string, runtimes: string[]): Promise<string> {
  const binding = { Name: `${role}-${subject}`.replace(/:/g, '-'), Role: role, Subject: subject, ...(runtimes.length > 0 && { Runtimes: runtimes }) };
  await created(client.kind('RoleBinding').create(binding), `the binding of role ${role} to ${subject}`, `see tptctl role list; tptctl role unbind ${role} --${subject.replace(':', ' ')} takes it back`);
  return runtimes.length > 0 ? ` on the runtimes ${runtimes.join(', ')}` : '';
}

interface UserAddFlags {
  groups?: string;
  role?: string[];
  runtimes?: string;
  output?: string;
  lifetime?: string;
}

async function addUser(name: string, options: UserAddFlags, context: CliContext): Promise<void> {
  const entry = authEntry(context);
  const output = options.output ?? `${name}-${entry.Name}.yaml`;
  const lifetimeMs = options.lifetime ? lifetimeOf(options.lifetime, '--lifetime') : undefined;
  const client = context.client(entry);
  const groups = listOf(options.groups);
  const runtimes = listOf(options.runtimes);
  const user = await created(client.kind('User').create({ Name: name, Groups: groups }), `a user named ${name}`, `tptctl user remove ${name} first, or choose another name`);
  context.terminal.info(`user ${name} created${groups.length > 0 ? ` (groups ${groups.join(', ')})` : ''}`);
  for (const role of options.role ?? []) {
    const where = await bindRole(client, role, `user:${name}`, runtimes);
    context.terminal.info(`role ${role} bound to user ${name}${where}`);
  }
  const { issued, key } = await certificateFor(client, Number(user.ID), { ...(lifetimeMs && { lifetimeMs }) });
  // Their own config: this control plane's entry with their certificate, nothing of ours.
  const theirs: ControlPlaneEntry = { Name: entry.Name, AuthEnabled: true, APIServer: entry.APIServer, CACert: toBase64(issued.CACert), Credentials: [credentialOf(entry, issued, key)] };
  writeConfig(output, { ControlPlanes: [theirs], CurrentControlPlane: entry.Name });
  context.terminal.complete(`user ${name} added; their threeport config (certificate valid until ${issued.NotAfter}) is ${output}: hand it over privately`);
  context.terminal.hint(`they use it with: tptctl --threeport-config ${output} get workloads (or copy it to ~/.threeport/config.yaml)`);
}

/** Revokes the caller's certificates but the one `entry` holds (the admin's after a restart of `up`). */
export async function revokeOtherCertificates(client: ApiClient, entry: ControlPlaneEntry): Promise<void> {
  const own = entry.Credentials?.find((credential) => credential.Name === entry.Name)?.ClientCert;
  const me = (await client.request('GET', '/v0/whoami')) as { UserID?: number };
  if (!own || !me.UserID) return;
  // A dynamic import: the CLI bundle loads node:crypto's functions lazily, and this is a class.
  const { X509Certificate } = await import('node:crypto');
  const serial = new X509Certificate(Buffer.from(own, 'base64').toString('utf8')).serialNumber;
  for (const certificate of await client.kind('UserCertificate').listAll({ userid: me.UserID })) {
    if (certificate.SerialNumber !== serial) await client.kind('UserCertificate').delete(Number(certificate.ID));
  }
}

async function removeUser(name: string, context: CliContext): Promise<void> {
  const client = context.client(authEntry(context));
  const user = await client.kind('User').findByName(name);
  if (!user) throw new CliError(`no user named ${name}`);
  // Bindings first: should the user be deleted and a new one of the same name come, nothing carries over.
  for (const binding of await client.kind('RoleBinding').listAll({ subject: `user:${name}` })) await client.kind('RoleBinding').delete(Number(binding.ID));
  await client.kind('User').delete(Number(user.ID));
  context.terminal.complete(`user ${name} removed: their certificates are refused from now on`);
}

async function rotate(options: { lifetime?: string }, context: CliContext): Promise<void> {
  const entry = authEntry(context);
  const client = context.client(entry);
  const me = (await client.request('GET', '/v0/whoami')) as { Name?: string; UserID?: number };
  if (!me.UserID) throw new CliError(`${me.Name ?? 'this caller'} is not a user with certificates (a token?): only users rotate credentials`);
  const lifetimeMs = options.lifetime ? lifetimeOf(options.lifetime, '--lifetime') : undefined;
  const { issued, key } = await certificateFor(client, me.UserID, { revokeOthers: true, ...(lifetimeMs && { lifetimeMs }) });
  const others = (entry.Credentials ?? []).filter((credential) => credential.Name !== entry.Name);
  writeConfig(context.configPath, upsertControlPlane(readConfig(context.configPath), { ...entry, CACert: toBase64(issued.CACert), Credentials: [...others, credentialOf(entry, issued, key)] }));
  context.terminal.complete(`new client certificate for ${me.Name} (valid until ${issued.NotAfter}) in ${context.configPath}; the previous ones are revoked`);
}

async function createToken(options: { role: string; name?: string; ttl: string; runtimes?: string }, context: CliContext): Promise<void> {
  const client = context.client(authEntry(context));
  const expiresAt = new Date(Date.now() + lifetimeOf(options.ttl, '--ttl')).toISOString();
  const { token, hash } = newToken();
  const name = options.name ?? `${options.role.replace(/:/g, '-')}-${hash.slice(0, 8)}`;
  const runtimes = listOf(options.runtimes);
  await created(client.kind('ApiToken').create({ Name: name, Role: options.role, TokenHash: hash, ExpiresAt: expiresAt, ...(runtimes.length > 0 && { Runtimes: runtimes }) }), `a token named ${name}`, `tptctl token delete ${name} first, or choose another --name`);
  // Only the token on stdout, so that $(tptctl token create …) is the token.
  process.stderr.write(`token ${name} (role ${options.role}) valid until ${expiresAt}; it is shown once, only its hash is kept:\n`);
  process.stdout.write(`${token}\n`);
}

async function deleteToken(name: string, context: CliContext): Promise<void> {
  const client = context.client(authEntry(context));
  const token = await client.kind('ApiToken').findByName(name);
  if (!token) throw new CliError(`no token named ${name}`);
  await client.kind('ApiToken').delete(Number(token.ID));
  context.terminal.complete(`token ${name} deleted: it is refused from now on`);
}

async function listUsers(context: CliContext): Promise<void> {
  const client = context.client(authEntry(context));
  const [users, bindings, certificates] = await Promise.all([client.kind('User').listAll(), client.kind('RoleBinding').listAll(), client.kind('UserCertificate').listAll()]);
  const rows = users.map((user) => {
    const groups = namesIn(user.Groups);
    const subjects = [`user:${user.Name}`, ...groups.map((group) => `group:${group}`)];
    const roles = bindings.filter((binding) => subjects.includes(String(binding.Subject))).map((binding) => String(binding.Role));
    if (groups.includes(ADMINS_GROUP)) roles.unshift('admin');
    const theirs = certificates.filter((certificate) => certificate.UserID === user.ID).map((certificate) => String(certificate.NotAfter)).sort();
    return [String(user.Name), groups.join(',') || '-', [...new Set(roles)].join(',') || '-', String(theirs.length), theirs.at(-1) ?? '-'];
  });
  context.terminal.print(renderTable(['NAME', 'GROUPS', 'ROLES', 'CERTIFICATES', 'LATEST VALID UNTIL'], rows));
}

async function listTokens(context: CliContext): Promise<void> {
  const tokens = await context.client(authEntry(context)).kind('ApiToken').listAll();
  context.terminal.print(renderTable(['NAME', 'ROLE', 'RUNTIMES', 'EXPIRES'], tokens.map((token) => [String(token.Name), String(token.Role), runtimesOf(token), String(token.ExpiresAt)])));
}

function subjectOf(options: { user?: string; group?: string }): string {
  if (Boolean(options.user) === Boolean(options.group)) throw new CliError('give one of --user or --group');
  return options.user ? `user:${options.user}` : `group:${String(options.group)}`;
}

async function bind(role: string, options: { user?: string; group?: string; runtimes?: string }, context: CliContext): Promise<void> {
  const subject = subjectOf(options);
  const where = await bindRole(context.client(authEntry(context)), role, subject, listOf(options.runtimes));
  context.terminal.complete(`role ${role} bound to ${subject}${where}`);
}

async function unbind(role: string, options: { user?: string; group?: string }, context: CliContext): Promise<void> {
  const subject = subjectOf(options);
  const client = context.client(authEntry(context));
  const bindings = await client.kind('RoleBinding').listAll({ subject, role });
  if (bindings.length === 0) throw new CliError(`${subject} has no binding to role ${role}`);
  for (const binding of bindings) await client.kind('RoleBinding').delete(Number(binding.ID));
  context.terminal.complete(`role ${role} unbound from ${subject}`);
}

async function listBindings(context: CliContext): Promise<void> {
  const bindings = await context.client(authEntry(context)).kind('RoleBinding').listAll();
  context.terminal.print(renderTable(['ROLE', 'SUBJECT', 'RUNTIMES', 'NAME'], bindings.map((binding) => [String(binding.Role), String(binding.Subject), runtimesOf(binding), String(binding.Name)])));
}

async function whoami(context: CliContext): Promise<void> {
  const me = (await context.client().request('GET', '/v0/whoami')) as { Name?: string; Roles?: string[]; Groups?: string[] };
  context.terminal.print(`${me.Name ?? 'unknown'}\nroles: ${(me.Roles ?? []).join(', ') || 'none'}${me.Groups?.length ? `\ngroups: ${me.Groups.join(', ')}` : ''}`);
}

const roleOption = (flags: string, description: string): Option => new Option(flags, description).choices(roleNames);

export function registerAccess(program: Command): void {
  const user = program
    .command('user')
    .description('Add and remove the users of a control plane with auth on (each holds a client certificate)')
    .addHelpText('after', examples(['tptctl user add alice --role developer --output alice.yaml', 'tptctl user add bob --groups platform-team', 'tptctl user remove alice']));

  user
    .command('add')
    .description('Create a user, bind roles to them and write a threeport config with their new client certificate')
    .argument('<name>', 'user name (the certificate’s CN)')
    .option('--groups <groups>', 'comma-separated groups (the certificate’s O); RoleBindings may name them as group:<name>')
    .addOption(roleOption('--role <role...>', `roles to bind to the user: ${personRoles.join(', ')}`))
    .option('--runtimes <names>', 'comma-separated Kubernetes runtime instances the roles apply to when they change what runs on a runtime (default: all)')
    .option('--output <file>', 'where to write their threeport config (default: <name>-<control plane>.yaml)')
    .option('--lifetime <duration>', 'how long the certificate lasts, e.g. 720h or 30d (default and limit: the control plane’s)')
    .addHelpText(
      'after',
      `\nThe key is made on this machine and written only to the output file (mode 0600), which
holds this control plane's entry with the user's certificate: give it to them privately.
Roles: admin (everything), platform (definitions, runtimes, accounts, support services),
developer (workloads and what they use), viewer (read, secrets redacted), delivery (report image builds).${examples([
        'tptctl user add alice --role developer',
        'tptctl user add carol --groups platform-team --output carol.yaml',
        'tptctl role bind platform --group platform-team   # then every member of the group gets it',
      ])}`,
    )
    .action(action<UserAddFlags>((options, context, args) => addUser(args[0]!, options, context)));

  user
    .command('list')
    .description('List the users, their groups, bound roles and certificates')
    .addHelpText('after', examples(['tptctl user list']))
    .action(action((_options, context) => listUsers(context)));

  user
    .command('remove')
    .description('Remove a user: their certificates and role bindings stop working at once')
    .argument('<name>', 'user name')
    .addHelpText('after', examples(['tptctl user remove alice']))
    .action(action((_options, context, args) => removeUser(args[0]!, context)));

  program
    .command('credentials')
    .description('Your client certificate for the current control plane')
    .addHelpText('after', examples(['tptctl credentials rotate']))
    .command('rotate')
    .description('Get a new client certificate (a new key, made here) into the threeport config and revoke your previous ones')
    .option('--lifetime <duration>', 'how long the new certificate lasts, e.g. 720h or 30d (default and limit: the control plane’s)')
    .addHelpText('after', examples(['tptctl credentials rotate', 'tptctl credentials rotate --lifetime 30d']))
    .action(action<{ lifetime?: string }>((options, context) => rotate(options, context)));

  const token = program
    .command('token')
    .description('Bearer tokens for CI and automation (sent as Authorization: Bearer <token>; tptctl reads THREEPORT_API_TOKEN)')
    .addHelpText('after', examples(['tptctl token create --role delivery --name ci --ttl 90d', 'tptctl token delete ci']));

  token
    .command('create')
    .description('Make a token with one role; it is printed once on stdout, the control plane keeps only its hash')
    .addOption(roleOption('--role <role>', 'its role: a person role, agent, controller or controller:<group>').makeOptionMandatory())
    .option('--name <name>', 'its name (default: role and a short fingerprint)')
    .option('--ttl <duration>', 'how long it lasts, e.g. 12h or 90d', '30d')
    .option('--runtimes <names>', 'comma-separated Kubernetes runtime instances its role applies to for what runs on a runtime (default: all)')
    .addHelpText('after', examples(['export THREEPORT_API_TOKEN=$(tptctl token create --role delivery --name ci)', 'tptctl token create --role controller:workload --ttl 365d', 'tptctl token create --role agent --runtimes edge-1 --name edge-1-agent']))
    .action(action<{ role: string; name?: string; ttl: string; runtimes?: string }>((options, context) => createToken(options, context)));

  token
    .command('list')
    .description('List the tokens (names, roles, expiry; never the tokens)')
    .addHelpText('after', examples(['tptctl token list']))
    .action(action((_options, context) => listTokens(context)));

  token
    .command('delete')
    .description('Revoke a token')
    .argument('<name>', 'token name')
    .addHelpText('after', examples(['tptctl token delete ci']))
    .action(action((_options, context, args) => deleteToken(args[0]!, context)));

  const role = program
    .command('role')
    .description('Bind roles to users and groups')
    .addHelpText('after', examples(['tptctl role bind platform --group platform-team', 'tptctl role unbind developer --user alice', 'tptctl role list']));
  for (const [verb, run, description] of [
    ['bind', bind, 'Give a role to a user or to every member of a group'],
    ['unbind', unbind, 'Take a role back'],
  ] as const) {
    const command = role
      .command(verb)
      .description(description)
      .argument('<role>', `one of ${roleNames.join(', ')}`)
      .option('--user <name>', 'a user')
      .option('--group <name>', 'a group (the O of its members’ certificates)');
    if (verb === 'bind') command.option('--runtimes <names>', 'comma-separated Kubernetes runtime instances the role applies to for what runs on a runtime (default: all)');
    command
      .addHelpText('after', examples([`tptctl role ${verb} developer --user alice`, `tptctl role ${verb} platform --group platform-team`, ...(verb === 'bind' ? ['tptctl role bind developer --group team-a --runtimes dev,staging'] : [])]))
      .action(action<{ user?: string; group?: string; runtimes?: string }>((options, context, args) => run(args[0]!, options, context)));
  }
  role
    .command('list')
    .description('List the role bindings')
    .addHelpText('after', examples(['tptctl role list']))
    .action(action((_options, context) => listBindings(context)));

  program
    .command('whoami')
    .description('Who the current control plane takes you for, and your roles')
    .addHelpText('after', examples(['tptctl whoami', 'THREEPORT_API_TOKEN=… tptctl whoami']))
    .action(action((_options, context) => whoami(context)));
}
