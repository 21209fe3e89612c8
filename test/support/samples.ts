/**
 * Valid objects of any kind, built from the registry: required fields filled by type, references
 * satisfied by creating the referenced objects first. Lets tests cover every kind generically.
 */
import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../../src/client/api-client.ts';
import type { ScalarField } from '../../src/model/fields.ts';
import type { ApiObject, Kind } from '../../src/model/kind.ts';
import { registry } from '../../src/model/registry.ts';

export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Values some domain rules insist on (made afresh where they must be unique, or where they reference objects to make first). */
const knownGood: Record<string, ApiObject | ((client: ApiClient) => ApiObject | Promise<ApiObject>)> = {
  ApiToken: () => ({ TokenHash: randomBytes(32).toString('hex'), ExpiresAt: new Date(Date.now() + 3_600_000).toISOString() }),
  RoleBinding: { Role: 'viewer', Subject: 'user:someone' },
  User: { Groups: [] },
  AwsAccount: { AccountID: '123456789012', DefaultRegion: 'us-east-1' },
  AwsRelationalDatabaseDefinition: { Engine: 'postgres', EngineVersion: '15.4' },
  AwsEksKubernetesRuntimeDefinition: { ZoneCount: 2 },
  KubernetesRuntimeDefinition: { InfraProvider: 'kind' },
  KubernetesRuntimeInstance: { Location: 'Local' },
  SecretDefinition: { Data: { password: 's3cr3t' } },
  // A secret instance is for one workload.
  SecretInstance: async (client) => ({ WorkloadInstanceID: (await createSample(client, registry.get('WorkloadInstance'))).ID }),
  DeliveryPolicy: { Environments: [{ Name: 'dev' }] },
  // An application declares its workload.
  Application: { YAMLDocument: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sample\n' },
  // An image use names exactly one user.
  ImageUse: async (client) => ({ WorkloadDefinitionID: (await createSample(client, registry.get('WorkloadDefinition'))).ID }),
};

function sampleValue(field: ScalarField, name: string): unknown {
  if (field.oneOf) return field.oneOf[0];
  switch (field.valueType) {
    case 'string':
      return name === 'Name' ? uniqueName('sample') : uniqueName(name.toLowerCase());
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    case 'time':
      return new Date('2026-01-02T03:04:05.000Z').toISOString();
    case 'json':
      // Manifests must be Kubernetes objects (their natural key is derived from them).
      return name === 'JSONDefinition' ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: uniqueName('sample') } } : { sample: true };
  }
}

/** A payload for `kind` with every required field, its references pointing at existing objects. */
export async function samplePayload(client: ApiClient, kind: Kind, overrides: ApiObject = {}): Promise<ApiObject> {
  const payload: ApiObject = {};
  for (const [name, field] of Object.entries(kind.fields)) {
    // A reference the API defaults (to the runtime with DefaultRuntime) is required all the same when there is none.
    if (field.kind !== 'scalar' || !(field.required || field.defaultToFlagged)) continue;
    const key = kind.jsonKey(name);
    if (key in overrides) continue;
    payload[key] = field.references ? (await createSample(client, registry.get(field.references))).ID : sampleValue(field, name);
  }
  const good = knownGood[kind.name];
  return { ...payload, ...(typeof good === 'function' ? await good(client) : good), ...overrides };
}

/** Creates a valid object of `kind` (and whatever it references). */
export async function createSample(client: ApiClient, kind: Kind, overrides: ApiObject = {}): Promise<ApiObject> {
  return client.kind(kind.name).create(await samplePayload(client, kind, overrides));
}

/** An optional string field a PATCH may change freely (not constrained, not encrypted). */
export function editableStringField(kind: Kind): string | undefined {
  const found = Object.entries(kind.fields).find(
    ([name, field]) =>
      field.kind === 'scalar' &&
      field.valueType === 'string' &&
      !field.required &&
      !field.oneOf &&
      !field.encrypted &&
      !field.immutable &&
      field.owner === undefined &&
      name !== 'Name',
  );
  return found ? kind.jsonKey(found[0]) : undefined;
}
