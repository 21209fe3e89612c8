/** Pinned versions of every tool the local runtime and the test bed run. Changing one rebuilds only that tool. */
export const versions = {
  kubernetes: 'v1.34.4',
  etcd: 'v3.6.5',
  kwok: 'v0.8.0',
  helm: 'v3.22.0',
  natsServer: 'v2.15.2',
  moto: '5.2.5',
  terraform: 'v1.11.4',
  /** What the test bed's fixture Terraform provider is built with. */
  terraformPluginFramework: 'v1.19.0',
} as const;
