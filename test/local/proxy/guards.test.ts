import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildStartup, PROTOCOL_3 } from '../../../local/proxy/wire.js';
import { startHarness, type Harness } from './support.js';

const BROWSER_APP = 'http://localhost:5173';
let h: Harness;

beforeAll(async () => {
  h = await startHarness(51, {}, { allowedOrigins: [BROWSER_APP] });
});

afterAll(async () => {
  await h?.stop();
});

/** The messages a server sends in reply to one startup packet, until it closes (or 3 s). */
function readReply(
  stream: { write(b: Buffer): void },
  onData: (cb: (b: Buffer) => void) => void,
  onEnd: (cb: () => void) => void,
): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => resolve(got), 3_000);
    onData((b) => (got = Buffer.concat([got, b])));
    onEnd(() => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** Splits backend messages: [type, fields of an ErrorResponse or the raw body]. */
function messages(bytes: Buffer): { type: string; fields: Record<string, string> }[] {
  const out: { type: string; fields: Record<string, string> }[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const type = String.fromCharCode(bytes[at]);
    const len = bytes.readInt32BE(at + 1);
    const body = bytes.subarray(at + 5, at + 1 + len);
    const fields: Record<string, string> = {};
    if (type === 'E') for (const f of body.toString('utf8').split('\0').filter(Boolean)) fields[f[0]] = f.slice(1);
    out.push({ type, fields });
    at += 1 + len;
  }
  return out;
}

const superuserStartup = () =>
  buildStartup(
    PROTOCOL_3,
    new Map([
      ['user', 'postgres'],
      ['database', 'postgres'],
    ]),
  );

/** A raw upgrade request with chosen Host and Origin: the status the relay answered, 101 if it upgraded. */
function upgradeStatus(
  headers: Record<string, string>,
  path = `/v2?address=${h.a.host}:${h.proxy.pgPort}`,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: h.proxy.httpPort,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.once('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: '' });
    });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** POST /sql with a chosen Host header (fetch cannot set it). */
function postSql(host: string, connectionString: string, method = 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({ query: 'SELECT current_user AS u', params: [] });
    const req = http.request(
      {
        host: '127.0.0.1',
        port: h.proxy.httpPort,
        path: '/sql',
        method,
        headers: {
          host,
          'content-type': 'application/json',
          'neon-connection-string': connectionString,
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

describe('connections that name no endpoint never reach a compute', () => {
  it('the shared TCP address answers a superuser startup with an ErrorResponse, not an authentication request', async () => {
    const socket = net.connect(h.proxy.pgPort, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    const reply = readReply(
      socket,
      (cb) => socket.on('data', cb),
      (cb) => socket.once('close', cb),
    );
    socket.write(superuserStartup());
    const got = messages(await reply);
    expect(got.map((m) => m.type)).toEqual(['E']);
    expect([got[0].fields.S, got[0].fields.C]).toEqual(['FATAL', 'XX000']);
    expect(got[0].fields.M).toContain('Endpoint ID is not specified');
  });

  it('so does the WebSocket relay for the shared address', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.proxy.httpPort}/v2?address=127.0.0.1:${h.proxy.pgPort}`);
    ws.on('error', () => {});
    await new Promise((r) => ws.once('open', r));
    const reply = readReply(
      ws as never,
      (cb) => ws.on('message', (d: Buffer) => cb(d)),
      (cb) => ws.once('close', cb),
    );
    ws.send(superuserStartup());
    const got = messages(await reply);
    expect(got.map((m) => m.type)).toEqual(['E']);
    expect(got[0].fields.C).toBe('XX000');
    // And with no address, a Host that is no endpoint routes nowhere.
    expect((await upgradeStatus({ host: `127.0.0.1:${h.proxy.httpPort}` }, '/v2')).status).toBe(400);
  });

  it('SQL over HTTP refuses a connection string for the shared address or any other port', async () => {
    for (const port of [h.proxy.pgPort, 5432]) {
      const url = `postgresql://postgres:${encodeURIComponent(h.superuserPassword)}@127.0.0.1:${port}/postgres`;
      const res = await postSql(`127.0.0.1:${h.proxy.httpPort}`, url);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'XX000' });
    }
  });
});

describe('WebSocket relay: browser origins', () => {
  const host = () => `127.0.0.1:${h.proxy.httpPort}`;

  it('refuses a page of any other origin with 403 before the upgrade', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:5174', 'null', 'http://127.0.0.1:8080']) {
      const res = await upgradeStatus({ host: host(), origin });
      expect(res.status, origin).toBe(403);
      expect(res.body).toContain('DBLEASE_LOCAL_ALLOWED_ORIGINS');
    }
  });

  it('lets a configured origin and clients that send no Origin (Node, workerd) through', async () => {
    expect((await upgradeStatus({ host: host(), origin: BROWSER_APP })).status).toBe(101);
    expect((await upgradeStatus({ host: host() })).status).toBe(101);
  });
});

describe('proxy HTTP side: Host must be a loopback name', () => {
  const url = () => h.url(h.a);

  it('answers 403 to SQL over HTTP, preflights and upgrades under a foreign Host', async () => {
    for (const host of ['evil.example', `evil.example:${h.proxy.httpPort}`, '127.0.0.1.nip.io', '10.0.0.1', '127.0.0.1:99999']) {
      expect((await postSql(host, url())).status, host).toBe(403);
      expect((await postSql(host, url(), 'OPTIONS')).status, host).toBe(403);
      expect((await upgradeStatus({ host })).status, host).toBe(403);
    }
    // HTTP/1.0 may leave Host out altogether; that is no loopback name either.
    const socket = net.connect(h.proxy.httpPort, '127.0.0.1');
    socket.on('error', () => {});
    const reply = readReply(
      socket,
      (cb) => socket.on('data', cb),
      (cb) => socket.once('close', cb),
    );
    socket.write('POST /sql HTTP/1.0\r\nContent-Length: 0\r\n\r\n');
    expect((await reply).toString('latin1')).toMatch(/^HTTP\/1\.[01] 403 /);
  });

  it('serves the loopback names, with or without port', async () => {
    const port = h.proxy.httpPort;
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, `${h.a.host}:${port}`]) {
      const res = await postSql(host, url());
      expect(res.status, host).toBe(200);
      expect(JSON.parse(res.body).rows).toEqual([{ u: 'neondb_owner' }]);
    }
    expect((await upgradeStatus({ host: `localhost:${port}` })).status).toBe(101);
  });
});
