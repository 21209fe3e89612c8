import { readFileSync } from 'node:fs';
import { freePort } from '../../local-runtime/ports.ts';
import { isRunning } from '../../local-runtime/process-identity.ts';
import type { ProcessRegistry } from '../../local-runtime/processes.ts';
import { tail } from '../../local-runtime/run-command.ts';
import { waitFor } from '../../local-runtime/wait.ts';
import type { AwsDescription } from '../description.ts';

/** moto accepts any credentials; these make it obvious in logs that nothing real is used. */
export const motoCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
export const motoRegion = 'us-east-1';

/** moto's AWS API server on a free loopback port. */
export async function startMoto(registry: ProcessRegistry, binary: string, name = 'moto'): Promise<AwsDescription> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = registry.start(name, binary, ['-H', '127.0.0.1', '-p', String(port)], {
      // AWS's managed policies (AmazonEKSClusterPolicy…) exist in every real account; moto loads them only when asked.
      env: { AWS_ACCESS_KEY_ID: motoCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: motoCredentials.secretAccessKey, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitFor('moto', () => probeMoto(endpoint), {
        timeoutMs: 60_000,
        intervalMs: 100,
        failFast: () => (isRunning(server) ? undefined : `exited\n${tail(readFileSync(server.log, 'utf8'))}`),
      });
      return { endpoint, region: motoRegion, credentials: { ...motoCredentials } };
    } catch (error) {
      await registry.stop(name);
      if (attempt >= 3 || !/address already in use/i.test(readFileSync(server.log, 'utf8'))) throw error;
    }
  }
}

export async function probeMoto(endpoint: string): Promise<true | undefined> {
  const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.ok ? true : undefined;
}

/** Forgets every resource moto holds. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`moto reset at ${endpoint} answered ${response.status}`);
}
