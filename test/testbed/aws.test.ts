import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { cleanAws } from '../support/peers.ts';

describe('moto of the test bed', () => {
  it('answers STS GetCallerIdentity through the AWS SDK v3', async () => {
    const aws = await cleanAws();
    const sts = new STSClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toMatch(/^\d{12}$/);
    expect(identity.Arn).toContain('arn:aws');
    sts.destroy();
    // A second call resets it and keeps the endpoint.
    expect((await cleanAws()).endpoint).toBe(aws.endpoint);
  });
});
