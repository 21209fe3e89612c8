import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { versions } from '../versions.ts';
import { go } from './go.ts';
import type { ToolRecipe } from './recipe.ts';

/** etcd, built through a three-line main because `go install` refuses the etcd server module. */
export const etcdRecipe: ToolRecipe = {
  name: 'etcd',
  version: versions.etcd,
  revision: 1,
  binaries: ['etcd'],
  needs: 'go',
  coldSeconds: 45,
  async build(binDir, workDir) {
    writeFileSync(join(workDir, 'go.mod'), 'module threeport.local/testbed/etcd\n\ngo 1.24\n');
    writeFileSync(
      join(workDir, 'main.go'),
      'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n',
    );
    await go(['get', `go.etcd.io/etcd/server/v3@${versions.etcd}`], workDir);
    await go(['mod', 'tidy'], workDir);
    await go(['build', '-ldflags', '-s -w', '-o', join(binDir, 'etcd'), '.'], workDir);
  },
};
