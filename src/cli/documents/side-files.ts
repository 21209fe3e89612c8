/** Side files a config names (manifests, values, Terraform), resolved relative to the config file. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export class SideFileError extends Error {}

export function readSideFile(baseDir: string, path: string): string {
  const absolute = resolve(baseDir, path);
  try {
    return readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SideFileError(`file ${path} does not exist (looked for ${absolute}, relative to the config file)`);
    if (code === 'EISDIR') throw new SideFileError(`${path} is a directory, expected a file`);
    throw new SideFileError(`cannot read ${absolute}: ${code ?? (error as Error).message}`);
  }
}

/** Every `*.tf` file under the directory, recursively, concatenated in path order (the original's ConfigDir). */
export function readTerraformDir(baseDir: string, path: string): string {
  const absolute = resolve(baseDir, path);
  try {
    if (!statSync(absolute).isDirectory()) throw new SideFileError(`${path} is not a directory (looked at ${absolute})`);
  } catch (error) {
    if (error instanceof SideFileError) throw error;
    throw new SideFileError(`directory ${path} does not exist (looked for ${absolute}, relative to the config file)`);
  }
  const files = (readdirSync(absolute, { recursive: true }) as string[]).filter((name) => name.endsWith('.tf')).sort();
  if (files.length === 0) throw new SideFileError(`no terraform config files (*.tf) found in ${absolute}`);
  return files.map((name) => readFileSync(join(absolute, name), 'utf8')).join('\n');
}
