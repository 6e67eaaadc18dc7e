import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A JWKS host, as an orchestrator runs one, for the Worker tests of keys fetched from a URL:
 * - `PUT /sets/<name>` stores a key set; `GET /sets/<name>` serves it (counting the fetches,
 *   `GET /fetches/<name>`), 404 when unknown;
 * - `GET /status/<code>` answers that status; `GET /not-json` answers text; `GET /hang` never answers.
 * It listens on 127.0.0.1 (http is allowed on loopback only, src/app/orchestrators/keys.ts).
 */
export async function startJwksHost(): Promise<{ url: string; close(): Promise<void> }> {
  const sets = new Map<string, string>();
  const fetches = new Map<string, number>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const [, kind, name = ''] = (req.url ?? '/').split('/');
    if (req.method === 'PUT' && kind === 'sets') {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        sets.set(name, body);
        res.writeHead(204).end();
      });
      return;
    }
    if (kind === 'sets') {
      fetches.set(name, (fetches.get(name) ?? 0) + 1);
      const set = sets.get(name);
      if (set === undefined) return res.writeHead(404).end();
      return res.writeHead(200, { 'content-type': 'application/json' }).end(set);
    }
    if (kind === 'fetches') return res.writeHead(200, { 'content-type': 'application/json' }).end(String(fetches.get(name) ?? 0));
    if (kind === 'status') return res.writeHead(Number(name) || 500).end();
    if (kind === 'not-json') return res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    if (kind === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
