import { randomUUID } from 'node:crypto';
import { association, boolean, integer, json, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { databaseInstanceClasses } from '../machine-sizes.ts';

/** RDS engines and the versions accepted for each. */
export const relationalDatabaseEngines: Readonly<Record<string, readonly string[]>> = {
  mariadb: ['10.3', '10.4', '10.5', '10.6', '10.11'],
  mysql: ['5.7', '8.0'],
  postgres: [
    '11.16', '11.17', '11.18', '11.19', '11.20', '11.21',
    '12.11', '12.12', '12.13', '12.14', '12.15', '12.16',
    '13.7', '13.8', '13.9', '13.10', '13.11', '13.12',
    '14.3', '14.4', '14.5', '14.6', '14.7', '14.8', '14.9',
    '15.2', '15.3', '15.4',
  ],
};

export const AwsAccount = defineKind({
  name: 'AwsAccount',
  domain: 'aws',
  owners: 'platform',
  description: 'An AWS account and the credentials or role threeport uses in it (checked when they are set or changed, and every few minutes: Status says whether they work and as whom).',
  shape: 'plain',
  controller: 'aws',
  exclusiveFlags: ['DefaultAccount'],
  fields: {
    Name: string({ required: true }),
    AccountID: string({ required: true, description: 'The 12-digit AWS account number.' }),
    DefaultAccount: boolean({ default: false }),
    DefaultRegion: string({ required: true }),
    AccessKeyID: string({ encrypted: true }),
    SecretAccessKey: string({ encrypted: true }),
    RoleArn: string({ description: 'Role to assume in the account.' }),
    ExternalId: string({ description: 'Set by the API on create; use it in the role’s trust policy.' }),
    AwsEksKubernetesRuntimeDefinitions: association('AwsEksKubernetesRuntimeDefinition'),
  },
  rules: {
    validate(account, previous) {
      if ((account.AccessKeyID == null) !== (account.SecretAccessKey == null)) {
        return 'both access key id and secret access key must be set if one of them is provided';
      }
      // Checked when set, so an account stored before these checks can still be written to (its Status, its deletion).
      const changed = (field: string) => previous?.[field] !== account[field];
      if (changed('AccountID') && !/^\d{12}$/.test(String(account.AccountID))) {
        return `AccountID must be the 12-digit AWS account number (quoted in YAML, so leading zeros stay), not ${JSON.stringify(account.AccountID)}`;
      }
      if (changed('DefaultRegion') && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(String(account.DefaultRegion))) {
        return `DefaultRegion must be an AWS region name such as us-east-1, not ${JSON.stringify(account.DefaultRegion)}`;
      }
      return undefined;
    },
    onCreate(account) {
      account.ExternalId = randomUUID();
    },
  },
});

export const AwsEksKubernetesRuntimeDefinition = defineKind({
  name: 'AwsEksKubernetesRuntimeDefinition',
  domain: 'aws',
  owners: 'platform',
  description: 'EKS specifics of a Kubernetes runtime definition; created by the kubernetes-runtime controller.',
  shape: 'definition',
  fields: {
    AwsAccountID: ref('AwsAccount', { required: true, json: 'AWSAccountID', blocksDelete: true }),
    ZoneCount: integer({ required: true }),
    DefaultNodeGroupInstanceType: string({ required: true }),
    DefaultNodeGroupInitialSize: integer({ required: true }),
    DefaultNodeGroupMinimumSize: integer({ required: true }),
    DefaultNodeGroupMaximumSize: integer({ required: true }),
    KubernetesRuntimeDefinitionID: ref('KubernetesRuntimeDefinition', { required: true }),
    AwsEksKubernetesRuntimeInstances: association('AwsEksKubernetesRuntimeInstance'),
  },
  rules: {
    validate(definition) {
      const zones = Number(definition.ZoneCount);
      if (!(zones >= 2 && zones <= 4)) return `ZoneCount ${String(definition.ZoneCount)} is not from 2 to 4 (EKS needs subnets in at least two zones; threeport lays out up to four)`;
      const [initial, minimum, maximum] = [definition.DefaultNodeGroupInitialSize, definition.DefaultNodeGroupMinimumSize, definition.DefaultNodeGroupMaximumSize].map(Number) as [number, number, number];
      if (!(minimum >= 0 && maximum >= 1 && minimum <= initial && initial <= maximum)) {
        return `the default node group's sizes must satisfy 0 ≤ minimum (${minimum}) ≤ initial (${initial}) ≤ maximum (${maximum}), with a maximum of at least 1`;
      }
      return undefined;
    },
  },
});

export const AwsEksKubernetesRuntimeInstance = defineKind({
  name: 'AwsEksKubernetesRuntimeInstance',
  domain: 'aws',
  owners: 'platform',
  description: 'An EKS cluster and the AWS resources built for it.',
  shape: 'instance',
  controller: 'aws',
  fields: {
    Region: string(),
    AwsEksKubernetesRuntimeDefinitionID: ref('AwsEksKubernetesRuntimeDefinition', { required: true, blocksDelete: true }),
    ResourceInventory: json({ owner: 'controller', description: 'Every AWS resource created, for resumption and teardown.' }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
  },
});

export const AwsRelationalDatabaseDefinition = defineKind({
  name: 'AwsRelationalDatabaseDefinition',
  domain: 'aws',
  owners: 'platform',
  description: 'A managed relational database (RDS) for workloads.',
  shape: 'definition',
  profileSection: 'AwsRelationalDatabase',
  fields: {
    Engine: string({ required: true, oneOf: Object.keys(relationalDatabaseEngines) }),
    EngineVersion: string({ required: true }),
    DatabaseName: string({ required: true }),
    DatabasePort: integer({ required: true }),
    BackupDays: integer({ default: 0, queryAliases: ['BackupDays'] }),
    MachineSize: string({ required: true, oneOf: Object.keys(databaseInstanceClasses), description: 'XSmall (db.t3.micro) … 4XLarge (db.m5.8xlarge).' }),
    StorageGb: integer({ required: true }),
    WorkloadSecretName: string({ required: true, queryAliases: ['WorkloadSecretName'], description: 'Kubernetes Secret the workload reads connection details from.' }),
    AwsAccountID: ref('AwsAccount', { required: true, blocksDelete: true }),
    AwsRelationalDatabaseInstances: association('AwsRelationalDatabaseInstance'),
  },
  rules: {
    validate(definition) {
      const versions = relationalDatabaseEngines[String(definition.Engine)] ?? [];
      if (!versions.includes(String(definition.EngineVersion))) {
        return `${String(definition.EngineVersion)} version is not supported for engine ${String(definition.Engine)}, valid versions: ${versions.join(', ')}`;
      }
      return undefined;
    },
  },
});

export const AwsRelationalDatabaseInstance = defineKind({
  name: 'AwsRelationalDatabaseInstance',
  domain: 'aws',
  owners: 'developer',
  description: 'An RDS database attached to a workload instance.',
  shape: 'instance',
  controller: 'aws',
  fields: {
    AwsRelationalDatabaseDefinitionID: ref('AwsRelationalDatabaseDefinition', { required: true, blocksDelete: true }),
    ResourceInventory: json({ owner: 'controller' }),
    WorkloadInstanceID: ref('WorkloadInstance', { required: true }),
    DatabasePassword: string({ encrypted: true, owner: 'controller', description: "The database's master password: made once by the controller, kept encrypted, delivered to the workload's Secret." }),
  },
});

export const AwsObjectStorageBucketDefinition = defineKind({
  name: 'AwsObjectStorageBucketDefinition',
  domain: 'aws',
  owners: 'platform',
  description: 'An S3 bucket for workloads.',
  shape: 'definition',
  profileSection: 'AwsObjectStorageBucket',
  fields: {
    PublicReadAccess: boolean({ default: false }),
    WorkloadServiceAccountName: string({ required: true, description: 'Service account granted access (IRSA).' }),
    WorkloadBucketEnvVar: string({ required: true, description: 'Environment variable carrying the bucket name.' }),
    AwsAccountID: ref('AwsAccount', { required: true, blocksDelete: true }),
    AwsObjectStorageBucketInstances: association('AwsObjectStorageBucketInstance'),
  },
});

export const AwsObjectStorageBucketInstance = defineKind({
  name: 'AwsObjectStorageBucketInstance',
  domain: 'aws',
  owners: 'developer',
  description: 'An S3 bucket attached to a workload instance.',
  shape: 'instance',
  controller: 'aws',
  fields: {
    ResourceInventory: json({ owner: 'controller' }),
    AwsObjectStorageBucketDefinitionID: ref('AwsObjectStorageBucketDefinition', { required: true, blocksDelete: true }),
    WorkloadInstanceID: ref('WorkloadInstance', { required: true }),
  },
});
