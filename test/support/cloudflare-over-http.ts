import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse } from 'msw';
import { CF_BASE, type CloudflareStandIn } from '../worker/support/cloudflare-stand-in';

/**
 * The same msw stand-in for Cloudflare's API (test/worker/support/cloudflare-stand-in.ts), served
 * on a loopback port for a Worker in another process (Wrangler's dev server): each request is
 * handed to the stand-in's handlers as if sent to its base URL. Point `CLOUDFLARE_API_BASE_URL`
 * at the returned `url`.
 */
export async function serveStandIn(cf: CloudflareStandIn): Promise<{ url: string; close(): Promise<void> }> {
  const handlers = cf.handlers();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').replace(/^\/client\/v4/, '');
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const body = chunks.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined;
    const answer = (await getResponse(handlers, new Request(`${CF_BASE}${path}`, { method: req.method, headers, body }))) ?? null;
    if (!answer)
      return res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"success":false,"errors":[{"code":7003,"message":"No route for that URI"}]}');
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/client/v4`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
