/**
 * IAM resources as stack steps: roles (their trust, managed policies and inline policy), roles
 * several owners share, and a cluster's OIDC provider (so service accounts can assume roles). IAM names
 * are the account's alone, so a role of the name that is not tagged as the owner's is
 * someone else's: refused, never adopted or deleted.
 */
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { absentAsUndefined, AwsProblem, isAwsNotFound, serviceCaller } from './errors.ts';
import { FOREIGN, type MadeResource, type StackRun, type StackStep } from './stack.ts';
import { isOwnedBy, tagsFor, type Owner } from './tags.ts';

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Record<string, unknown>[];
}

export const policy = (...statements: Record<string, unknown>[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

/** A trust policy for an AWS service (eks.amazonaws.com, ec2.amazonaws.com). */
export const serviceTrust = (service: string): PolicyDocument => policy({ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' });

/**
 * A trust policy letting a Kubernetes service account (`*`: any of the namespace's) assume the role
 * through the cluster's OIDC provider.
 */
export function serviceAccountTrust(provider: { arn: string; url: string }, namespace: string, serviceAccount: string): PolicyDocument {
  const issuer = provider.url.replace(/^https:\/\//, '');
  const subject = { [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}` };
  return policy({
    Effect: 'Allow',
    Principal: { Federated: provider.arn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: serviceAccount === '*' ? { StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com' }, StringLike: subject } : { StringEquals: { ...subject, [`${issuer}:aud`]: 'sts.amazonaws.com' } },
  });
}

export const awsManagedPolicy = (name: string): string => `arn:aws:iam::aws:policy/${name}`;

export interface RolePlan {
  key: string;
  name: string;
  what: string;
  /** Its trust policy, from what earlier steps made (the OIDC provider). */
  trust(run: StackRun): PolicyDocument;
  /** ARNs of managed policies to attach, from earlier steps or AWS's own. */
  managedPolicies?(run: StackRun): string[];
  /** Its own inline policy (named `threeport`). */
  inlinePolicy?: PolicyDocument;
}

const INLINE_POLICY = 'threeport';

export function roleStep(iam: IAMClient, account: string, owner: Owner, plan: RolePlan): StackStep {
  const call = serviceCaller('iam', account);
  return {
    key: plan.key,
    what: plan.what,
    async find(run) {
      const answer = await call('GetRole', run, (signal) => iam.send(new GetRoleCommand({ RoleName: plan.name }), { abortSignal: signal })).catch(absentAsUndefined);
      const role = answer?.Role;
      if (!role) return undefined;
      if (!isOwnedBy(role.Tags, owner)) throw new AwsProblem(`IAM role ${plan.name} exists in AWS account ${account} and threeport did not make it for ${owner.object}: delete or rename it, or name the runtime differently`, true, FOREIGN);
      return { id: plan.name, arn: String(role.Arn) };
    },
    async create(run) {
      try {
        const answer = await call('CreateRole', run, (signal) =>
          iam.send(new CreateRoleCommand({ RoleName: plan.name, AssumeRolePolicyDocument: JSON.stringify(plan.trust(run)), Description: `threeport: ${plan.what}`, Tags: tagsFor(owner, plan.key) }), { abortSignal: signal }),
        );
        return { id: plan.name, arn: String(answer.Role?.Arn) };
      } catch (error) {
        // Made meanwhile by another try: it is ours if its tags say so (find checks).
        if (error instanceof AwsProblem && error.code === 'EntityAlreadyExists') {
          const found = await this.find(run);
          if (found) return found;
        }
        throw error;
      }
    },
    async configure(run, made) {
      await call('UpdateAssumeRolePolicy', run, (signal) => iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: made.id, PolicyDocument: JSON.stringify(plan.trust(run)) }), { abortSignal: signal }));
      for (const arn of plan.managedPolicies?.(run) ?? []) {
        await call('AttachRolePolicy', run, (signal) => iam.send(new AttachRolePolicyCommand({ RoleName: made.id, PolicyArn: arn }), { abortSignal: signal }));
      }
      if (plan.inlinePolicy) {
        await call('PutRolePolicy', run, (signal) => iam.send(new PutRolePolicyCommand({ RoleName: made.id, PolicyName: INLINE_POLICY, PolicyDocument: JSON.stringify(plan.inlinePolicy) }), { abortSignal: signal }));
      }
    },
    async remove(run, made) {
      const attached = await call('ListAttachedRolePolicies', run, (signal) => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
      if (!attached) return;
      for (const { PolicyArn } of attached.AttachedPolicies ?? []) {
        await call('DetachRolePolicy', run, (signal) => iam.send(new DetachRolePolicyCommand({ RoleName: made.id, PolicyArn }), { abortSignal: signal })).catch(absentAsUndefined);
      }
      const inline = await call('ListRolePolicies', run, (signal) => iam.send(new ListRolePoliciesCommand({ RoleName: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
      for (const name of inline?.PolicyNames ?? []) {
        await call('DeleteRolePolicy', run, (signal) => iam.send(new DeleteRolePolicyCommand({ RoleName: made.id, PolicyName: name }), { abortSignal: signal })).catch(absentAsUndefined);
      }
      await call('DeleteRole', run, (signal) => iam.send(new DeleteRoleCommand({ RoleName: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
    },
  };
}

/**
 * The OIDC provider of a cluster's issuer. An issuer URL has one provider per account: one that
 * someone else made for this cluster (eksctl, say) is used, and left in place on teardown. Without
 * the issuer (the cluster is gone), the owner's provider is found by its tags.
 */
export function oidcProviderStep(iam: IAMClient, account: string, owner: Owner, plan: { key: string; issuer(run: StackRun): Promise<string | undefined> }): StackStep {
  const call = serviceCaller('iam', account);
  const hostPath = (url: string) => url.replace(/^https:\/\//, '').replace(/\/$/, '');
  const describe = (run: StackRun, arn: string) => call('GetOpenIDConnectProvider', run, (signal) => iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }), { abortSignal: signal }));
  return {
    key: plan.key,
    what: 'OIDC provider for service account roles',
    async find(run) {
      const issuer = await plan.issuer(run);
      const providers = await call('ListOpenIDConnectProviders', run, (signal) => iam.send(new ListOpenIDConnectProvidersCommand({}), { abortSignal: signal }));
      const arns = (providers.OpenIDConnectProviderList ?? []).map((provider) => String(provider.Arn));
      if (issuer) {
        const arn = arns.find((candidate) => candidate.endsWith(`oidc-provider/${hostPath(issuer)}`));
        if (!arn) return undefined;
        const provider = await describe(run, arn);
        return { id: arn, url: issuer, ...(!isOwnedBy(provider.Tags, owner) && { shared: 'true' }) };
      }
      for (const arn of arns) {
        const provider = await describe(run, arn);
        if (isOwnedBy(provider.Tags, owner, plan.key)) return { id: arn, url: `https://${hostPath(String(provider.Url))}` };
      }
      return undefined;
    },
    async create(run): Promise<MadeResource | { waiting: string }> {
      const issuer = await plan.issuer(run);
      if (!issuer) return { waiting: 'the cluster has no OIDC issuer yet' };
      const answer = await call('CreateOpenIDConnectProvider', run, (signal) =>
        iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ['sts.amazonaws.com'], Tags: tagsFor(owner, plan.key) }), { abortSignal: signal }),
      );
      return { id: String(answer.OpenIDConnectProviderArn), url: issuer };
    },
    async remove(run, made: MadeResource) {
      if (made.shared) return;
      await call('DeleteOpenIDConnectProvider', run, (signal) => iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: made.id }), { abortSignal: signal })).catch(absentAsUndefined);
    },
    async removing(run, made) {
      if (made.shared) return undefined;
      const arns = await call('ListOpenIDConnectProviders', run, (signal) => iam.send(new ListOpenIDConnectProvidersCommand({}), { abortSignal: signal }));
      return (arns.OpenIDConnectProviderList ?? []).some((provider) => provider.Arn === made.id) ? 'the OIDC provider is being removed' : undefined;
    },
  };
}

export interface SharedRolePlan {
  key: string;
  name: string;
  what: string;
  trust(run: StackRun): PolicyDocument;
  /** This user's part of the role: an inline policy of its own name. */
  policyName: string;
  policy(run: StackRun): PolicyDocument;
}

/**
 * A role several owners use (one service account can assume one role: every bucket of a workload
 * shares it), owned by `owner` — what they share (e.g. the workload's service account) — each user
 * adding its own inline policy. Each pass makes sure the role and this user's policy are there (a
 * user that went away may have removed the role meanwhile); removing takes this user's policy out,
 * and the role with it once no other user's policy is left.
 */
export function sharedRoleStep(iam: IAMClient, account: string, owner: Owner, plan: SharedRolePlan): StackStep {
  const call = serviceCaller('iam', account);
  const role = roleStep(iam, account, owner, { key: plan.key, name: plan.name, what: plan.what, trust: plan.trust });
  const putPolicy = (run: StackRun) =>
    call('PutRolePolicy', run, (signal) => iam.send(new PutRolePolicyCommand({ RoleName: plan.name, PolicyName: plan.policyName, PolicyDocument: JSON.stringify(plan.policy(run)) }), { abortSignal: signal }));
  return {
    key: plan.key,
    what: plan.what,
    find: (run) => role.find(run),
    create: (run) => role.create(run),
    async pending(run) {
      try {
        await putPolicy(run);
      } catch (error) {
        if (!isAwsNotFound(error)) throw error;
        // Removed meanwhile by its last other user: made again.
        await role.create(run);
        await putPolicy(run);
      }
      return undefined;
    },
    async remove(run) {
      await call('DeleteRolePolicy', run, (signal) => iam.send(new DeleteRolePolicyCommand({ RoleName: plan.name, PolicyName: plan.policyName }), { abortSignal: signal })).catch(absentAsUndefined);
      const left = await call('ListRolePolicies', run, (signal) => iam.send(new ListRolePoliciesCommand({ RoleName: plan.name }), { abortSignal: signal })).catch(absentAsUndefined);
      if (!left || (left.PolicyNames ?? []).length > 0) return;
      await call('DeleteRole', run, (signal) => iam.send(new DeleteRoleCommand({ RoleName: plan.name }), { abortSignal: signal })).catch((error: unknown) => {
        // Another user put its policy in meanwhile: the role is still in use.
        if (isAwsNotFound(error) || (error instanceof AwsProblem && error.code === 'DeleteConflict')) return undefined;
        throw error;
      });
    },
    async removing(run) {
      const answer = await call('ListRolePolicies', run, (signal) => iam.send(new ListRolePoliciesCommand({ RoleName: plan.name }), { abortSignal: signal })).catch(absentAsUndefined);
      return answer?.PolicyNames?.includes(plan.policyName) ? `${plan.what}: its policy ${plan.policyName} is being removed` : undefined;
    },
  };
}
