import { join } from 'node:path';
import { versions } from '../versions.ts';
import { run } from '../run-command.ts';
import type { ToolRecipe } from './recipe.ts';

/** moto's AWS API server in its own virtualenv; `moto_server` is exposed in bin/. */
export const motoRecipe: ToolRecipe = {
  name: 'moto',
  version: versions.moto,
  revision: 1,
  binaries: ['moto_server'],
  needs: 'python',
  coldSeconds: 60,
  async build(binDir, _workDir, toolDir) {
    const venv = join(toolDir, 'venv');
    await run('python3', ['-m', 'venv', venv]);
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `moto[server]==${versions.moto}`]);
    // The venv's own script has its interpreter path baked in; a symlink keeps it working.
    await run('ln', ['-s', join(venv, 'bin', 'moto_server'), join(binDir, 'moto_server')]);
  },
};
