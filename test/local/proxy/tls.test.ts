import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerTls, tlsPaths, TlsSetupError } from '../../../local/tls/index.js';
import { buildStartup, PROTOCOL_3 } from '../../../local/proxy/wire.js';
import { startHarness, type Harness } from './support.js';

let h: Harness;
let caPem: string;

beforeAll(async () => {
  h = await startHarness(71);
  caPem = await fs.readFile(tlsPaths(h.dataDir).caCert, 'utf8');
});

afterAll(async () => {
  await h?.stop();
});

const request = (code: number) => {
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(code, 4);
  return packet;
};
const SSL_REQUEST = request(80877103);
const GSSENC_REQUEST = request(80877104);
const startup = (user = 'neondb_owner') =>
  buildStartup(
    PROTOCOL_3,
    new Map([
      ['user', user],
      ['database', 'neondb'],
    ]),
  );

/** Everything a stream receives, readable as bytes or backend messages as it arrives. */
class Received {
  bytes = Buffer.alloc(0);
  ended = false;
  private waiters: (() => void)[] = [];
  constructor(stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
      this.waiters.splice(0).forEach((w) => w());
    });
    stream.on('close', () => {
      this.ended = true;
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  async until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (this.ended || Date.now() > deadline) throw new Error(`stream ended or timed out with ${this.bytes.length} bytes`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  /** Backend messages: type and body. */
  messages(): { type: string; body: Buffer }[] {
    const out: { type: string; body: Buffer }[] = [];
    for (let at = 0; at + 5 <= this.bytes.length;) {
      const len = this.bytes.readInt32BE(at + 1);
      if (at + 1 + len > this.bytes.length) break;
      out.push({ type: String.fromCharCode(this.bytes[at]), body: this.bytes.subarray(at + 5, at + 1 + len) });
      at += 1 + len;
    }
    return out;
  }
  async message(type: string): Promise<Buffer> {
    await this.until(() => this.messages().some((m) => m.type === type));
    return this.messages().find((m) => m.type === type)!.body;
  }
}

function tcp(host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(h.proxy.pgPort, host, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Asks for TLS the classic way (SSLRequest) and returns the answer byte and, on 'S', a TLS socket. */
async function negotiated(host: string, first: Buffer[] = [SSL_REQUEST]): Promise<{ answers: string; socket?: tls.TLSSocket }> {
  const socket = await tcp(host);
  let answers = '';
  for (const packet of first) {
    socket.write(packet);
    answers += await new Promise<string>((resolve) => socket.once('data', (b: Buffer) => resolve(b.toString('latin1'))));
  }
  if (!answers.endsWith('S')) return { answers };
  const secure = tls.connect({ socket, ca: caPem, checkServerIdentity: () => undefined });
  await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  return { answers, socket: secure };
}

/** The mechanisms of the AuthenticationSASL a startup packet gets on `stream`. */
async function mechanisms(stream: Duplex): Promise<string[]> {
  const got = new Received(stream);
  stream.write(startup());
  const body = await got.message('R');
  expect(body.readInt32BE(0)).toBe(10);
  return body.toString('utf8', 4).split('\0').filter(Boolean);
}

const errorFields = (body: Buffer) =>
  Object.fromEntries(
    body
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map((f) => [f[0], f.slice(1)]),
  );

describe('endpoint proxy TLS', () => {
  it("answers an SSLRequest with 'S' and presents the install's certificate, signed by its CA (files 0600)", async () => {
    const paths = tlsPaths(h.dataDir);
    const { answers, socket } = await negotiated(h.a.host);
    expect(answers).toBe('S');
    expect(socket!.authorized).toBe(true);
    const onDisk = new crypto.X509Certificate(await fs.readFile(paths.serverCert));
    expect(socket!.getPeerX509Certificate()!.raw).toEqual(onDisk.raw);
    expect(onDisk.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    socket!.destroy();
    expect((await fs.stat(paths.dir)).mode & 0o777).toBe(0o700);
    for (const file of [paths.caCert, paths.caKey, paths.serverCert, paths.serverKey]) {
      expect((await fs.stat(file)).mode & 0o777, file).toBe(0o600);
    }
  });

  it('offers SCRAM-SHA-256-PLUS over TLS, classic or direct (ALPN postgresql), and never without TLS', async () => {
    const plain = await tcp(h.a.host);
    expect(await mechanisms(plain)).toEqual(['SCRAM-SHA-256']);
    plain.destroy();
    // GSS encryption is declined, then TLS accepted, as psql asks.
    const { answers, socket } = await negotiated(h.a.host, [GSSENC_REQUEST, SSL_REQUEST]);
    expect(answers).toBe('NS');
    expect(await mechanisms(socket!)).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    socket!.destroy();
    const direct = tls.connect({
      host: h.a.host,
      port: h.proxy.pgPort,
      ca: caPem,
      ALPNProtocols: ['postgresql'],
      checkServerIdentity: () => undefined,
    });
    await new Promise((resolve) => direct.once('secureConnect', resolve));
    expect(direct.alpnProtocol).toBe('postgresql');
    expect(await mechanisms(direct)).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    direct.destroy();
  });

  it('refuses direct TLS without ALPN, plaintext pipelined after an SSLRequest, and a channel-binding downgrade', async () => {
    const noAlpn = tls.connect({ host: h.a.host, port: h.proxy.pgPort, ca: caPem, checkServerIdentity: () => undefined });
    const got = new Received(noAlpn);
    expect(errorFields(await got.message('E'))).toMatchObject({ S: 'FATAL', C: '08P01' });
    noAlpn.destroy();

    const stuffed = await tcp(h.a.host);
    const reply = new Received(stuffed);
    stuffed.write(Buffer.concat([SSL_REQUEST, startup()]));
    expect(errorFields(await reply.message('E'))).toMatchObject({ C: '08P01', M: 'received unencrypted data after SSL request' });
    expect(reply.bytes[0]).toBe('E'.charCodeAt(0));

    // Over TLS the client says it could bind but believes the server cannot: PLUS was removed on the way.
    const { socket } = await negotiated(h.a.host);
    const answers = new Received(socket!);
    socket!.write(startup());
    await answers.message('R');
    const clientFirst = Buffer.from('y,,n=,r=downgradenonce');
    const head = Buffer.from('SCRAM-SHA-256\0');
    const length = Buffer.alloc(4);
    length.writeInt32BE(clientFirst.length);
    const body = Buffer.concat([head, length, clientFirst]);
    const frame = Buffer.alloc(5);
    frame.write('p');
    frame.writeInt32BE(4 + body.length, 1);
    socket!.write(Buffer.concat([frame, body]));
    expect(errorFields(await answers.message('E'))).toMatchObject({ C: '08P01', M: 'SCRAM channel binding negotiation error' });
    socket!.destroy();
  });

  it('lets pg authenticate with channel binding, unverified or verifying the CA', async () => {
    const base = { port: h.proxy.pgPort, user: 'neondb_owner', password: h.a.password, database: 'neondb', enableChannelBinding: true };
    for (const config of [
      { ...base, host: h.a.host, ssl: { rejectUnauthorized: false } },
      // verify-ca on an endpoint's address (127.1.x.y is not in the certificate's names)…
      { ...base, host: h.a.host, ssl: { ca: caPem, checkServerIdentity: () => undefined } },
      // …and verify-full where the name is in it: 127.0.0.1 with the endpoint named in options.
      { ...base, host: '127.0.0.1', options: `endpoint=${h.a.id}`, ssl: { ca: caPem } },
    ]) {
      const client = new pg.Client(config);
      await client.connect();
      const stream = (client as unknown as { connection: { stream: tls.TLSSocket } }).connection.stream;
      expect(stream.encrypted).toBe(true);
      expect((await client.query(`SELECT current_setting('cluster_name') AS compute`)).rows).toEqual([{ compute: 'a' }]);
      await client.end();
    }
  });

  it("works with psql and Neon's URI parameters (sslmode=require&channel_binding=require), verify-ca and verify-full", async () => {
    const psql = (uri: string) =>
      promisify(execFile)('psql', ['-XAtc', `SELECT current_user || '@' || current_setting('cluster_name')`, uri], {
        env: { ...process.env, PGPASSWORD: h.a.password, PGCONNECT_TIMEOUT: '5' },
      }).then(
        (r) => r.stdout.trim(),
        (e: { stderr: string }) => `error: ${e.stderr.trim()}`,
      );
    const ca = tlsPaths(h.dataDir).caCert;
    const base = `postgresql://neondb_owner@${h.a.host}:${h.proxy.pgPort}/neondb`;
    expect(await psql(`${base}?sslmode=require&channel_binding=require`)).toBe('neondb_owner@a');
    expect(await psql(`${base}?sslmode=verify-ca&sslrootcert=${ca}&channel_binding=require`)).toBe('neondb_owner@a');
    const shared = `postgresql://neondb_owner@127.0.0.1:${h.proxy.pgPort}/neondb?options=endpoint%3D${h.a.id}`;
    expect(await psql(`${shared}&sslmode=verify-full&sslrootcert=${ca}`)).toBe('neondb_owner@a');
    // Clients that do not ask for TLS still work.
    expect(await psql(`${base}?sslmode=disable`)).toBe('neondb_owner@a');
  });
});

describe('startup negotiation', () => {
  it('negotiates a newer protocol and `_pq_.` options down before authentication (NegotiateProtocolVersion)', async () => {
    const socket = await tcp(h.a.host);
    const got = new Received(socket);
    const packet = buildStartup(
      (3 << 16) | 9,
      new Map([
        ['user', 'neondb_owner'],
        ['database', 'neondb'],
        ['_pq_.future_option', 'x'],
      ]),
    );
    socket.write(packet);
    await got.message('R');
    const [first, second] = got.messages();
    expect(first.type).toBe('v');
    expect(first.body.readInt32BE(0)).toBe(2);
    expect(first.body.readInt32BE(4)).toBe(1);
    expect(first.body.toString('utf8', 8)).toBe('_pq_.future_option\0');
    expect(second.type).toBe('R');
    socket.destroy();
  });
});

describe('TLS material in the data folder', () => {
  it('is made once, reused on restart, re-issued near expiry under the same CA, and never silently replaced', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-tls-test-'));
    try {
      const paths = tlsPaths(dir);
      const now = new Date('2030-01-01T00:00:00Z');
      expect((await loadServerTls(dir, now)).made).toBe('ca-and-server');
      const ca = await fs.readFile(paths.caCert, 'utf8');
      const cert = await fs.readFile(paths.serverCert, 'utf8');
      expect((await loadServerTls(dir, now)).made).toBe('nothing');
      expect(await fs.readFile(paths.serverCert, 'utf8')).toBe(cert);
      // Ten days before the server certificate ends, a start issues a new one; clients' CA stays.
      const late = new Date(new crypto.X509Certificate(cert).validTo).getTime() - 10 * 86_400_000;
      expect((await loadServerTls(dir, new Date(late))).made).toBe('server');
      expect(await fs.readFile(paths.caCert, 'utf8')).toBe(ca);
      const renewed = new crypto.X509Certificate(await fs.readFile(paths.serverCert, 'utf8'));
      expect(renewed.raw).not.toEqual(new crypto.X509Certificate(cert).raw);
      expect(renewed.checkIssued(new crypto.X509Certificate(ca))).toBe(true);
      await fs.rm(paths.caKey);
      await expect(loadServerTls(dir, now)).rejects.toBeInstanceOf(TlsSetupError);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
