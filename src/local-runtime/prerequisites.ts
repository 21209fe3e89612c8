import { MissingPrerequisite } from './errors.ts';
import { run } from './run-command.ts';

/** Checks that Go is on PATH; building the Kubernetes control plane, etcd, kwok, helm and nats-server needs it. */
export async function requireGo(): Promise<string> {
  try {
    const { stdout } = await run('go', ['env', 'GOVERSION']);
    return stdout.trim();
  } catch {
    throw new MissingPrerequisite(
      'go',
      'Go is needed to build the test bed\'s tools (kube-apiserver, etcd, kwok, helm, nats-server) ' +
        'but `go` is not on PATH. Install Go 1.24 or newer (https://go.dev/dl/) and run again.',
    );
  }
}

/** Checks that Python 3 with the venv module is on PATH; moto runs in a virtualenv. */
export async function requirePython(): Promise<string> {
  try {
    await run('python3', ['-c', 'import venv, ensurepip']);
    return 'python3';
  } catch {
    throw new MissingPrerequisite(
      'python',
      'Python 3 with the venv module is needed for moto (the AWS API twin) but `python3 -m venv` ' +
        'is not available. Install python3 and python3-venv, or start without AWS (--no-aws).',
    );
  }
}
