import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ToolName, ToolPaths } from '../local-runtime/tools/install.ts';

export interface ClusterDescription {
  /** a, b, c… */
  name: string;
  kubeconfigPath: string;
  context: string;
  /** The API server's URL. */
  server: string;
  nodes: number;
  /** How the cluster was made (local-runtime/cluster-recipe.ts); absent in older descriptions. */
  recipe?: string;
}

export interface AwsDescription {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** What a running test bed offers, as written to `<instance>/testbed.json`. */
export interface TestbedDescription {
  version: 1;
  /** The instance directory: state, logs, kubeconfigs. */
  dir: string;
  descriptionPath: string;
  envPath: string;
  startedAt: string;
  clusters: ClusterDescription[];
  nats: { url: string };
  postgres: { url: string };
  /** Absent when started with --no-aws. */
  aws: AwsDescription | null;
  /** The helm binary. */
  helm: string;
  tools: ToolPaths;
  /** A folder of links to every tool, handy to put first on PATH. */
  binDir: string;
}

export function descriptionPath(instanceDir: string): string {
  return join(instanceDir, 'testbed.json');
}

export function envPath(instanceDir: string): string {
  return join(instanceDir, 'testbed.env');
}

export function readDescription(instanceDir: string): TestbedDescription | undefined {
  try {
    return JSON.parse(readFileSync(descriptionPath(instanceDir), 'utf8')) as TestbedDescription;
  } catch {
    return undefined;
  }
}

export function readDescriptionFile(path: string): TestbedDescription {
  return JSON.parse(readFileSync(path, 'utf8')) as TestbedDescription;
}

/** Writes the JSON description and the shell env file, each atomically. */
export function writeDescription(description: TestbedDescription): void {
  mkdirSync(description.dir, { recursive: true });
  writeAtomically(description.descriptionPath, JSON.stringify(description, null, 2) + '\n');
  writeAtomically(description.envPath, renderEnv(description));
}

function writeAtomically(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/** Variables for a shell: `source .testbed/default/testbed.env`. */
export function renderEnv(description: TestbedDescription): string {
  const variables: Record<string, string> = {
    THREEPORT_TESTBED: description.descriptionPath,
    DATABASE_URL: description.postgres.url,
    NATS_URL: description.nats.url,
    HELM: description.helm,
  };
  for (const cluster of description.clusters) {
    const prefix = `KUBECONFIG_${cluster.name.toUpperCase()}`;
    variables[prefix] = cluster.kubeconfigPath;
    variables[`${prefix}_CONTEXT`] = cluster.context;
  }
  const first = description.clusters[0];
  if (first) variables.KUBECONFIG = first.kubeconfigPath;
  if (description.aws) {
    variables.AWS_ENDPOINT_URL = description.aws.endpoint;
    variables.AWS_REGION = description.aws.region;
    variables.AWS_ACCESS_KEY_ID = description.aws.credentials.accessKeyId;
    variables.AWS_SECRET_ACCESS_KEY = description.aws.credentials.secretAccessKey;
  }
  const lines = ['# The threeport test bed; source this file in a shell.'];
  for (const [name, value] of Object.entries(variables)) lines.push(`export ${name}=${shellQuote(value)}`);
  lines.push(`export PATH=${shellQuote(description.binDir)}:"$PATH"`);
  return lines.join('\n') + '\n';
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function requireTool(description: TestbedDescription, name: ToolName): string {
  const path = description.tools[name];
  if (!path) throw new Error(`the test bed at ${description.dir} has no ${name} (started without it?)`);
  return path;
}
