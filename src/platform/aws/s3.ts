/**
 * An S3 bucket as a stack step: tagged, encrypted at rest, public access blocked unless public read
 * is asked for. Bucket names are global: one of the name that is not this account's is refused.
 * Removing the bucket removes everything in it (every version), then the bucket.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { absentAsUndefined, awsCall, awsErrorCode, AwsProblem, isAwsNotFound, serviceCaller } from './errors.ts';
import { FOREIGN, type StackRun, type StackStep } from './stack.ts';
import { isOwnedBy, tagsFor, type Owner } from './tags.ts';

export interface BucketPlan {
  key: string;
  name: string;
  region: string;
  publicRead: boolean;
}

/** Whether the bucket exists and is this account's; refuses one that is someone else's. */
async function bucketExists(s3: S3Client, account: string, name: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }), { abortSignal: signal });
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || isAwsNotFound(error)) return false;
    if (status === 403) throw new AwsProblem(`S3 answers 403 for bucket ${name}: either account ${account} may not s3:ListBucket on it (give its credentials that permission), or the name belongs to another AWS account (bucket names are global: name the bucket instance differently)`, true, 'AccessDenied', true);
    // A HEAD answer has no body to say what failed: worth another try.
    throw new AwsProblem(`AWS s3:HeadBucket failed in account ${account}: ${awsErrorCode(error) ?? 'Error'}: ${(error as Error).message}`, false, awsErrorCode(error));
  }
}

export function bucketStep(s3: S3Client, account: string, owner: Owner, plan: BucketPlan): StackStep {
  const call = serviceCaller('s3', account);
  return {
    key: plan.key,
    what: `S3 bucket ${plan.name}`,
    async find(run) {
      if (!(await bucketExists(s3, account, plan.name, run.signal))) return undefined;
      const tagging = await call('GetBucketTagging', run, (signal) => s3.send(new GetBucketTaggingCommand({ Bucket: plan.name }), { abortSignal: signal })).catch((error: unknown) => {
        if (error instanceof AwsProblem && error.code === 'NoSuchTagSet') return { TagSet: [] };
        throw error;
      });
      // A bucket of this name with no tags is one a crash left before tagging it: the name is this owner's alone.
      if ((tagging.TagSet ?? []).length > 0 && !isOwnedBy(tagging.TagSet, owner)) {
        throw new AwsProblem(`an S3 bucket named ${plan.name} exists in AWS account ${account} and threeport did not make it for ${owner.object}`, true, FOREIGN);
      }
      return { id: plan.name };
    },
    async create(run) {
      await call('CreateBucket', run, (signal) =>
        s3.send(new CreateBucketCommand({ Bucket: plan.name, ...(plan.region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: plan.region as never } }) }), { abortSignal: signal }),
      ).catch((error: unknown) => {
        if (error instanceof AwsProblem && error.code === 'BucketAlreadyOwnedByYou') return undefined;
        if (error instanceof AwsProblem && error.code === 'BucketAlreadyExists') throw new AwsProblem(`the S3 bucket name ${plan.name} is taken by another AWS account (bucket names are global): name the bucket instance differently`, true, error.code);
        throw error;
      });
      return { id: plan.name };
    },
    async configure(run) {
      await call('PutBucketTagging', run, (signal) => s3.send(new PutBucketTaggingCommand({ Bucket: plan.name, Tagging: { TagSet: tagsFor(owner, plan.key) } }), { abortSignal: signal }));
      await configureBucket(s3, account, plan, run.signal);
    },
    async remove(run) {
      if (!(await bucketExists(s3, account, plan.name, run.signal))) return;
      await emptyBucket(s3, account, plan.name, run.signal);
      await call('DeleteBucket', run, (signal) => s3.send(new DeleteBucketCommand({ Bucket: plan.name }), { abortSignal: signal })).catch(absentAsUndefined);
    },
    async removing(run) {
      return (await bucketExists(s3, account, plan.name, run.signal)) ? `S3 bucket ${plan.name} is being removed` : undefined;
    },
  };
}

/** Encryption at rest, and public access blocked — or, when asked, objects readable by anyone. Applied again on every check. */
export async function configureBucket(s3: S3Client, account: string, plan: BucketPlan, signal?: AbortSignal): Promise<void> {
  const call = <T>(action: string, send: () => Promise<T>): Promise<T> => awsCall(`s3:${action}`, account, send);
  await call('PutBucketEncryption', () =>
    s3.send(new PutBucketEncryptionCommand({ Bucket: plan.name, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }] } }), { abortSignal: signal }),
  );
  const block = !plan.publicRead;
  await call('PutPublicAccessBlock', () =>
    s3.send(new PutPublicAccessBlockCommand({ Bucket: plan.name, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: block, RestrictPublicBuckets: block } }), { abortSignal: signal }),
  );
  if (plan.publicRead) {
    const document = { Version: '2012-10-17', Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${plan.name}/*` }] };
    await call('PutBucketPolicy', () => s3.send(new PutBucketPolicyCommand({ Bucket: plan.name, Policy: JSON.stringify(document) }), { abortSignal: signal }));
  } else {
    await call('DeleteBucketPolicy', () => s3.send(new DeleteBucketPolicyCommand({ Bucket: plan.name }), { abortSignal: signal })).catch(absentAsUndefined);
  }
}

async function emptyBucket(s3: S3Client, account: string, name: string, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    const listed = await awsCall('s3:ListObjectVersions', account, () => s3.send(new ListObjectVersionsCommand({ Bucket: name, MaxKeys: 1000 }), { abortSignal: signal }));
    const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((entry) => ({ Key: String(entry.Key), ...(entry.VersionId && { VersionId: entry.VersionId }) }));
    if (objects.length === 0) return;
    await awsCall('s3:DeleteObjects', account, () => s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: objects, Quiet: true } }), { abortSignal: signal }));
  }
}
