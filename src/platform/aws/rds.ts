/**
 * A managed database in a cluster's VPC as stack steps: a security group admitting the cluster's
 * private subnets (its nodes and pods) on the database's port, a DB subnet group of those subnets,
 * and the RDS instance, encrypted, not public.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBInstanceCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { absentAsUndefined, awsCall, AwsProblem, deletedUnlessBusy } from './errors.ts';
import { FOREIGN, type StackRun, type StackStep } from './stack.ts';
import { isOwnedBy, ownerFilters, tagsFor, type Owner } from './tags.ts';

export interface DatabasePlan {
  /** Names the database, its subnet group and security group. */
  identifier: string;
  /** What the database is made with: asked for only when something is made (a teardown needs none). */
  settings(): DatabaseSettings;
}

export interface DatabaseSettings {
  vpcId: string;
  subnetIds: string[];
  /** Who may connect: the cluster's private subnets. */
  clientCidrs: string[];
  engine: string;
  engineVersion: string;
  instanceClass: string;
  storageGb: number;
  backupDays: number;
  databaseName: string;
  port: number;
  username: string;
  password: string;
}

export const databaseKeys = { securityGroup: 'security-group', subnetGroup: 'db-subnet-group', instance: 'db-instance' };

export async function describeDatabase(rds: RDSClient, account: string, identifier: string, signal?: AbortSignal): Promise<DBInstance | undefined> {
  const answer = await awsCall('rds:DescribeDBInstances', account, () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }), { abortSignal: signal })).catch(absentAsUndefined);
  return answer?.DBInstances?.[0];
}

export function databaseSteps(ec2: EC2Client, rds: RDSClient, account: string, owner: Owner, plan: DatabasePlan): StackStep[] {
  const securityGroup: StackStep = {
    key: databaseKeys.securityGroup,
    what: `security group of database ${plan.identifier}`,
    async find(run) {
      const answer = await awsCall('ec2:DescribeSecurityGroups', account, () => ec2.send(new DescribeSecurityGroupsCommand({ Filters: ownerFilters(owner, this.key) }), { abortSignal: run.signal }));
      const group = answer.SecurityGroups?.find((candidate) => isOwnedBy(candidate.Tags, owner, this.key));
      return group?.GroupId ? { id: group.GroupId } : undefined;
    },
    async create(run) {
      const answer = await awsCall('ec2:CreateSecurityGroup', account, () =>
        ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: plan.identifier,
            Description: `threeport: database ${plan.identifier}, open to its cluster`,
            VpcId: plan.settings().vpcId,
            TagSpecifications: [{ ResourceType: 'security-group', Tags: tagsFor(owner, this.key, plan.identifier) }],
          }),
          { abortSignal: run.signal },
        ),
      );
      return { id: String(answer.GroupId) };
    },
    async configure(run, made) {
      const { port, clientCidrs } = plan.settings();
      await awsCall('ec2:AuthorizeSecurityGroupIngress', account, () =>
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: made.id,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: clientCidrs.map((cidr) => ({ CidrIp: cidr, Description: 'the cluster’s private subnets' })) }],
          }),
          { abortSignal: run.signal },
        ),
      ).catch((error: unknown) => {
        if (error instanceof AwsProblem && error.code === 'InvalidPermission.Duplicate') return undefined;
        throw error;
      });
    },
    async remove(run, made) {
      await awsCall('ec2:DeleteSecurityGroup', account, () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: made.id }), { abortSignal: run.signal })).catch(absentAsUndefined);
    },
  };

  const subnetGroup: StackStep = {
    key: databaseKeys.subnetGroup,
    what: `DB subnet group ${plan.identifier}`,
    async find(run) {
      const answer = await awsCall('rds:DescribeDBSubnetGroups', account, () => rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: plan.identifier }), { abortSignal: run.signal })).catch(absentAsUndefined);
      return answer?.DBSubnetGroups?.[0] ? { id: plan.identifier } : undefined;
    },
    async create(run) {
      await awsCall('rds:CreateDBSubnetGroup', account, () =>
        rds.send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: plan.identifier, DBSubnetGroupDescription: `threeport: database ${plan.identifier}`, SubnetIds: plan.settings().subnetIds, Tags: tagsFor(owner, this.key) }), { abortSignal: run.signal }),
      );
      return { id: plan.identifier };
    },
    async remove(run) {
      await awsCall('rds:DeleteDBSubnetGroup', account, () => rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: plan.identifier }), { abortSignal: run.signal })).catch(absentAsUndefined);
    },
  };

  const instance: StackStep = {
    key: databaseKeys.instance,
    what: `database ${plan.identifier}`,
    async find(run) {
      const found = await describeDatabase(rds, account, plan.identifier, run.signal);
      if (!found) return undefined;
      if (!isOwnedBy(found.TagList, owner)) throw new AwsProblem(`an RDS database named ${plan.identifier} exists in AWS account ${account} and threeport did not make it for ${owner.object}`, true, FOREIGN);
      return { id: plan.identifier, arn: String(found.DBInstanceArn) };
    },
    async create(run: StackRun) {
      const settings = plan.settings();
      const answer = await awsCall('rds:CreateDBInstance', account, () =>
        rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: plan.identifier,
            DBInstanceClass: settings.instanceClass,
            Engine: settings.engine,
            EngineVersion: settings.engineVersion,
            AllocatedStorage: settings.storageGb,
            DBName: settings.databaseName,
            Port: settings.port,
            MasterUsername: settings.username,
            MasterUserPassword: settings.password,
            VpcSecurityGroupIds: [run.made(databaseKeys.securityGroup).id],
            DBSubnetGroupName: run.made(databaseKeys.subnetGroup).id,
            BackupRetentionPeriod: settings.backupDays,
            StorageEncrypted: true,
            PubliclyAccessible: false,
            CopyTagsToSnapshot: true,
            Tags: tagsFor(owner, this.key),
          }),
          { abortSignal: run.signal },
        ),
      );
      return { id: plan.identifier, arn: String(answer.DBInstance?.DBInstanceArn) };
    },
    async pending(run) {
      const found = await describeDatabase(rds, account, plan.identifier, run.signal);
      const status = found?.DBInstanceStatus;
      if (status === 'available') return undefined;
      if (status === 'failed' || status?.startsWith('incompatible') || status === 'storage-full') {
        throw new AwsProblem(`database ${plan.identifier} is ${status}: see its events in the RDS console`, true, 'DatabaseFailed');
      }
      return `database ${plan.identifier} is ${status ?? 'not visible yet'} (this takes several minutes)`;
    },
    async remove(run) {
      await awsCall('rds:DeleteDBInstance', account, () =>
        rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: plan.identifier, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }), { abortSignal: run.signal }),
      ).catch(deletedUnlessBusy(`database ${plan.identifier}`, 'InvalidDBInstanceState', 'deleting', async () => (await describeDatabase(rds, account, plan.identifier, run.signal))?.DBInstanceStatus));
    },
    async removing(run) {
      const found = await describeDatabase(rds, account, plan.identifier, run.signal);
      return found ? `database ${plan.identifier} is ${found.DBInstanceStatus ?? 'being deleted'}` : undefined;
    },
  };

  return [securityGroup, subnetGroup, instance];
}

/** What of a database can follow its definition once made: its size class, more storage, its backups. */
export interface DatabaseResize {
  instanceClass: string;
  storageGb: number;
  backupDays: number;
}

/**
 * Brings an available database to its definition's size, storage and backups (applied at once,
 * as RDS does: a class change restarts it). Storage only grows. Returns what it changed (none:
 * already so), or says why it cannot.
 */
export async function resizeDatabase(rds: RDSClient, account: string, database: DBInstance, wanted: DatabaseResize, signal?: AbortSignal): Promise<string[]> {
  const identifier = String(database.DBInstanceIdentifier);
  const storage = Number(database.AllocatedStorage ?? 0);
  if (wanted.storageGb < storage) throw new AwsProblem(`database ${identifier} has ${storage} GB: RDS storage cannot shrink, so StorageGb ${wanted.storageGb} is not applied (make it ${storage} or more)`, true, 'StorageCannotShrink', true);
  const changes = {
    ...(database.DBInstanceClass !== wanted.instanceClass && { DBInstanceClass: wanted.instanceClass }),
    ...(wanted.storageGb > storage && { AllocatedStorage: wanted.storageGb }),
    ...(Number(database.BackupRetentionPeriod ?? 0) !== wanted.backupDays && { BackupRetentionPeriod: wanted.backupDays }),
  };
  const changed = Object.entries(changes).map(([field, value]) => `${field} ${String(value)}`);
  if (changed.length === 0) return [];
  await awsCall('rds:ModifyDBInstance', account, () => rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: identifier, ApplyImmediately: true, ...changes }), { abortSignal: signal }));
  return changed;
}
