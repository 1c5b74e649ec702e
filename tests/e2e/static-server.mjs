// A tiny static file server for the end-to-end tests: serves a directory (the release build in dist/) on
// 127.0.0.1 at a free port, with the right MIME types (`.wasm` must be `application/wasm` for streaming
// compilation), at the root or under a sub-path (`prefix: '/synod'`, as a project site is published), with any
// extra headers (`headers: { 'Access-Control-Allow-Origin': '*' }` for an author's site). It sends no
// X-Frame-Options, like most static hosts. Also runs alone: `node tests/e2e/static-server.mjs dist 8000`.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export const MIME_TYPES = {
  '.scenario': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts serving `root`; resolves to `{ url, close }` once listening. `port` 0 picks a free port. */
export async function startStaticServer(root, { port = 0, host = '127.0.0.1', prefix = '', headers = {} } = {}) {
  const base = resolve(root);
  const server = createServer(async (request, response) => {
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      const full = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
      if (full !== prefix && !full.startsWith(`${prefix}/`)) {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`not found: ${full}`);
        return;
      }
      const pathname = full.slice(prefix.length) || '/';
      let file = normalize(join(base, pathname));
      if (file !== base && !file.startsWith(base + sep)) {
        response.writeHead(403).end('forbidden');
        return;
      }
      let info = await stat(file).catch(() => null);
      if (info?.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file).catch(() => null);
      }
      if (!info?.isFile()) {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`not found: ${full}`);
        return;
      }
      response.writeHead(200, {
        ...headers,
        'Content-Type': MIME_TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Length': info.size,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      if (request.method === 'HEAD') response.end();
      else createReadStream(file).pipe(response);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise((ready, fail) => {
    server.once('error', fail);
    server.listen(port, host, ready);
  });
  const { port: actual } = server.address();
  return {
    url: `http://${host}:${actual}${prefix}`,
    port: actual,
    close: () => new Promise((done) => server.close(done)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [root = 'dist', port = '8000'] = process.argv.slice(2);
  const { url } = await startStaticServer(root, { port: Number(port) });
  console.log(`serving ${root} at ${url}/`);
}
