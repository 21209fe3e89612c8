/**
 * What each simulated node advertises, as a kubelet on a large cloud VM would (32 vCPU, 256 GiB,
 * a 200 GiB root disk, 2 GiB of 2 MiB huge pages): capacity, and allocatable after the kubelet's
 * reservations (150m CPU and 1 GiB for the system, 100 MiB and 10 % of the disk kept free for
 * eviction, the huge pages taken out of memory). kwok's own node template advertises only cpu,
 * memory and pods, so a Pod requesting ephemeral-storage or huge pages never scheduled.
 *
 * No attachable-volumes-*: kubelets of Kubernetes 1.34 no longer publish them (volume limits
 * are per CSI driver in CSINode) and Pods cannot request them.
 */
export const nodeCapacity = {
  cpu: '32',
  memory: '256Gi',
  pods: '110',
  'ephemeral-storage': '200Gi',
  'hugepages-1Gi': '0',
  'hugepages-2Mi': '2Gi',
} as const;

export const nodeAllocatable = {
  cpu: '31850m',
  memory: `${256 * 1024 - 2 * 1024 - 1024 - 100}Mi`,
  pods: '110',
  'ephemeral-storage': '180Gi',
  'hugepages-1Gi': '0',
  'hugepages-2Mi': '2Gi',
} satisfies Record<keyof typeof nodeCapacity, string>;

/** `kwokctl scale node` parameters that put these into kwok's node template. */
export function nodeResourceParameters(): string[] {
  return ['--param', `.capacity=${JSON.stringify(nodeCapacity)}`, '--param', `.allocatable=${JSON.stringify(nodeAllocatable)}`];
}
