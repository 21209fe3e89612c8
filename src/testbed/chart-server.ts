/**
 * Chart repositories on loopback for tests and benchmarks: a folder's files over HTTP (helm fetches
 * index.yaml and the .tgz files from it), and the real upstream charts kept beside the project
 * (../shared/charts) found.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FileServer {
  url: string;
  close(): Promise<void>;
}

/** The files of `root` over HTTP on loopback (nothing under a `.helm` folder: helm's own state). */
export async function serveDirectory(root: string): Promise<FileServer> {
  const server = createServer((request, response) => serveFile(root, request.url ?? '/', response));
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolveListen);
  });
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => closeServer(server) };
}

/** The shared chart repository: THREEPORT_CHARTS_DIR, else ../shared/charts beside the repository. */
export function sharedChartsDir(): string {
  const candidates = [process.env.THREEPORT_CHARTS_DIR, resolve(fileURLToPath(new URL('../../../shared/charts', import.meta.url))), '/work/shared/charts'].filter((dir): dir is string => Boolean(dir));
  const root = candidates.find((dir) => existsSync(join(dir, 'index.yaml')));
  if (!root) throw new Error(`no chart repository with an index.yaml in ${candidates.join(', ')}: set THREEPORT_CHARTS_DIR to the shared charts`);
  return resolve(root);
}

function serveFile(root: string, url: string, response: ServerResponse): void {
  const path = normalize(join(root, decodeURIComponent(new URL(url, 'http://x').pathname)));
  if (!path.startsWith(root + sep) || path.includes(`${sep}.helm`)) {
    response.writeHead(404).end();
    return;
  }
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': path.endsWith('.yaml') ? 'application/x-yaml' : 'application/gzip' });
  createReadStream(path).pipe(response);
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolveClose) => server.close(() => resolveClose()));
}
