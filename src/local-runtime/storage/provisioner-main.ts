/**
 * The local cluster's volume provisioner as a process: `node provisioner-main.ts KUBECONFIG`.
 * Runs until SIGTERM/SIGINT.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { startProvisioner } from './provisioner.ts';

const kubeconfigPath = process.argv[2];
if (!kubeconfigPath) {
  process.stderr.write('usage: provisioner-main.ts KUBECONFIG\n');
  process.exit(2);
}
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const stop = await startProvisioner(kubeConfig, { log });
log('provisioner running');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void stop().finally(() => process.exit(0));
  });
}
