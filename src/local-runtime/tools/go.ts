import { run } from '../run-command.ts';

/** Environment for `go` commands; the user's module and build caches are shared, so rebuilds are quick. */
function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, GO111MODULE: 'on', ...extra };
}

export async function go(args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('go', args, { cwd, env: goEnv(extraEnv) });
  return stdout;
}

/** `go install module/cmd@version` with the binary placed in `binDir`. */
export async function goInstall(packagePath: string, version: string, binDir: string, workDir: string, ldflags = ''): Promise<void> {
  const args = ['install'];
  if (ldflags) args.push('-ldflags', ldflags);
  args.push(`${packagePath}@${version}`);
  await go(args, workDir, { GOBIN: binDir });
}
