/** The AWS platform layer against moto: hosted zones found or made once; AWS errors as a user can act on them. */
import { describe, expect, it } from 'vitest';
import { awsProblem, AwsProblem, ensureHostedZone, route53Of } from '../../src/platform/aws/index.ts';
import { cleanAws } from '../support/peers.ts';
import { uniqueName } from '../support/samples.ts';

describe('aws platform', async () => {
  const aws = await cleanAws();
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  const route53 = route53Of({ name: 'test', region: aws.region, accessKeyId: aws.credentials.accessKeyId, secretAccessKey: aws.credentials.secretAccessKey });

  it('makes a public hosted zone once: a retry with the same reference finds it', async () => {
    const domain = `${uniqueName('zone')}.example.com`;
    const made = await ensureHostedZone(route53, 'test', { domain, type: 'Public', reference: `ref-${domain}` });
    expect(made).toMatchObject({ name: `${domain}.`, created: true, private: false });
    const again = await ensureHostedZone(route53, 'test', { domain: `${domain.toUpperCase()}.`, type: 'Public', reference: `ref-${domain}` });
    expect(again).toMatchObject({ id: made.id, created: false });
  });

  it('never makes a private zone: says what to do', async () => {
    const attempt = ensureHostedZone(route53, 'test', { domain: `${uniqueName('private')}.example.com`, type: 'Private', reference: 'ref' });
    await expect(attempt).rejects.toThrow(/has no private hosted zone .* create it with the VPCs/);
    await expect(attempt).rejects.toMatchObject({ permanent: true });
  });

  it('names the missing permission, the bad key, the quota; throttling is worth a retry', () => {
    const denied = awsProblem({ name: 'AccessDenied', message: 'not authorized', $metadata: { httpStatusCode: 403 } }, 'route53:CreateHostedZone', 'prod');
    expect(denied).toBeInstanceOf(AwsProblem);
    expect(denied.message).toBe('AWS account prod may not route53:CreateHostedZone: give its credentials that permission (not authorized)');
    expect(awsProblem({ name: 'InvalidClientTokenId', message: 'x' }, 'a', 'prod').message).toContain('check its access key or role');
    expect(awsProblem({ name: 'TooManyHostedZones', message: 'x' }, 'a', 'prod').message).toContain('reached a quota');
    expect(awsProblem({ name: 'Throttling', message: 'slow down', $metadata: { httpStatusCode: 400 } }, 'a', 'prod').permanent).toBe(false);
    expect(awsProblem({ name: 'InvalidInput', message: 'bad', $metadata: { httpStatusCode: 400 } }, 'a', 'prod').permanent).toBe(true);
    // A region without endpoints and a control plane without DNS look the same: tried again now and then.
    const unresolved = awsProblem(Object.assign(new Error('getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com'), { code: 'ENOTFOUND' }), 'sts:GetCallerIdentity', 'prod');
    expect(unresolved).toMatchObject({ code: 'ENOTFOUND', fixedElsewhere: true });
    expect(unresolved.message).toContain("check the region's name");
  });
});
