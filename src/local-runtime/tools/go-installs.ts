import { versions } from '../versions.ts';
import { goInstall } from './go.ts';
import type { ToolRecipe } from './recipe.ts';

export const kwokRecipe: ToolRecipe = {
  name: 'kwok',
  version: versions.kwok,
  revision: 1,
  binaries: ['kwok', 'kwokctl'],
  needs: 'go',
  coldSeconds: 100,
  async build(binDir, workDir) {
    const ldflags = '-s -w';
    await goInstall('sigs.k8s.io/kwok/cmd/kwok', versions.kwok, binDir, workDir, ldflags);
    await goInstall('sigs.k8s.io/kwok/cmd/kwokctl', versions.kwok, binDir, workDir, ldflags);
  },
};

export const helmRecipe: ToolRecipe = {
  name: 'helm',
  version: versions.helm,
  revision: 1,
  binaries: ['helm'],
  needs: 'go',
  coldSeconds: 80,
  async build(binDir, workDir) {
    const ldflags = `-s -w -X helm.sh/helm/v3/internal/version.version=${versions.helm}`;
    await goInstall('helm.sh/helm/v3/cmd/helm', versions.helm, binDir, workDir, ldflags);
  },
};

export const natsServerRecipe: ToolRecipe = {
  name: 'nats-server',
  version: versions.natsServer,
  revision: 1,
  binaries: ['nats-server'],
  needs: 'go',
  coldSeconds: 20,
  async build(binDir, workDir) {
    await goInstall('github.com/nats-io/nats-server/v2', versions.natsServer, binDir, workDir, '-s -w');
  },
};
