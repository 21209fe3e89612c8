import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { versions } from '../versions.ts';
import { go } from './go.ts';
import type { ToolRecipe } from './recipe.ts';

const commands = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];

/**
 * The Kubernetes control plane and a matching kubectl, built from the Go module proxy.
 * `go install` refuses k8s.io/kubernetes because its go.mod points the staging modules at local
 * folders, so a throwaway module requires it and points each staging module at its published
 * v0.x twin instead.
 */
export const kubernetesRecipe: ToolRecipe = {
  name: 'kubernetes',
  version: versions.kubernetes,
  revision: 1,
  binaries: commands,
  needs: 'go',
  coldSeconds: 360,
  async build(binDir, workDir) {
    const version = versions.kubernetes;
    const stagingVersion = version.replace(/^v1\./, 'v0.');
    const download = JSON.parse(await go(['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], workDir)) as { GoMod: string };
    const upstream = readFileSync(download.GoMod, 'utf8');
    const staging = [...upstream.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((match) => match[1]!);
    const goDirective = /^go\s+(\S+)/m.exec(upstream)?.[1] ?? '1.24.0';
    writeFileSync(
      join(workDir, 'go.mod'),
      [
        'module threeport.local/testbed/kubernetes',
        '',
        `go ${goDirective}`,
        '',
        `require k8s.io/kubernetes ${version}`,
        '',
        'replace (',
        ...staging.map((module) => `\t${module} => ${module} ${stagingVersion}`),
        ')',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(workDir, 'tools.go'),
      [
        '//go:build tools',
        '',
        'package tools',
        '',
        'import (',
        ...commands.map((command) => `\t_ "k8s.io/kubernetes/cmd/${command}"`),
        ')',
        '',
      ].join('\n'),
    );
    await go(['mod', 'tidy'], workDir);
    const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version)!;
    // Without the version stamp the server reports v0.0.0-master, which clients cannot parse.
    const ldflags = [
      '-s -w',
      `-X k8s.io/component-base/version.gitVersion=${version}`,
      `-X k8s.io/component-base/version.gitMajor=${major}`,
      `-X k8s.io/component-base/version.gitMinor=${minor}`,
      '-X k8s.io/component-base/version.gitTreeState=clean',
    ].join(' ');
    await go(['build', '-ldflags', ldflags, '-o', `${binDir}/`, ...commands.map((command) => `k8s.io/kubernetes/cmd/${command}`)], workDir);
  },
};
