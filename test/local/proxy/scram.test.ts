import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PasswordCheck } from '../../../local/proxy/password-check.js';
import {
  SCRAM,
  SCRAM_PLUS,
  ScramProtocolError,
  ScramServer,
  mockSecret,
  parseClientFirst,
  parseScramSecret,
  saslPrep,
  scramSecret,
  verifyPassword,
  type ScramSecret,
} from '../../../local/proxy/scram.js';

// RFC 7677 §3, the SCRAM-SHA-256 example exchange (user "user", password "pencil").
const RFC = {
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const pencil = () => parseScramSecret(scramSecret('pencil', RFC.salt, 4096))!;

/** A SCRAM client written from RFC 5802, to drive the server through channel-binding cases. */
function clientProof(
  password: string,
  secretSalt: Buffer,
  iterations: number,
  bare: string,
  serverFirst: string,
  withoutProof: string,
): string {
  const salted = crypto.pbkdf2Sync(password, secretSalt, iterations, 32, 'sha256');
  const clientKey = crypto.createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = crypto.createHash('sha256').update(clientKey).digest();
  const signature = crypto.createHmac('sha256', storedKey).update(`${bare},${serverFirst},${withoutProof}`).digest();
  return Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
}

function exchange(
  server: ScramServer,
  opts: { mechanism: string; gs2: string; binding?: Buffer; password?: string; secret?: ScramSecret },
) {
  const bare = 'n=,r=clientnonce123';
  const serverFirst = server.start(opts.mechanism, `${opts.gs2}${bare}`);
  const nonce = /r=([^,]+)/.exec(serverFirst)![1];
  const cbind = Buffer.concat([Buffer.from(opts.gs2), opts.binding ?? Buffer.alloc(0)]).toString('base64');
  const withoutProof = `c=${cbind},r=${nonce}`;
  const secret = opts.secret ?? pencil();
  const proof = clientProof(opts.password ?? 'pencil', secret.salt, secret.iterations, bare, serverFirst, withoutProof);
  return server.finish(`${withoutProof},p=${proof}`);
}

describe('SCRAM-SHA-256 server', () => {
  it("follows RFC 7677's example exchange byte for byte", () => {
    const server = new ScramServer(pencil(), undefined, RFC.serverNonce);
    expect(server.start(SCRAM, RFC.clientFirst)).toBe(RFC.serverFirst);
    expect(server.finish(RFC.clientFinal)).toEqual({ ok: true, serverFinal: RFC.serverFinal });
  });

  it('rejects a wrong password, and a mock secret rejects every password', () => {
    expect(exchange(new ScramServer(pencil()), { mechanism: SCRAM, gs2: 'n,,', password: 'pen' })).toEqual({ ok: false });
    const mock = mockSecret('ghost', crypto.randomBytes(32));
    expect(exchange(new ScramServer(mock), { mechanism: SCRAM, gs2: 'n,,', secret: mock })).toEqual({ ok: false });
    // The same user gets the same salt from the same key, as a real role would.
    const key = crypto.randomBytes(32);
    expect(mockSecret('ghost', key).salt).toEqual(mockSecret('ghost', key).salt);
    expect(mockSecret('ghost', key).salt).not.toEqual(mockSecret('other', key).salt);
  });

  it('offers PLUS only with channel-binding data (TLS), and checks the binding', () => {
    expect(new ScramServer(pencil()).mechanisms()).toEqual([SCRAM]);
    const binding = crypto.randomBytes(32);
    expect(new ScramServer(pencil(), binding).mechanisms()).toEqual([SCRAM_PLUS, SCRAM]);
    const plus = { mechanism: SCRAM_PLUS, gs2: 'p=tls-server-end-point,,' };
    expect(exchange(new ScramServer(pencil(), binding), { ...plus, binding })).toMatchObject({ ok: true });
    // A binding to another certificate (a TLS-terminating middlebox) fails even with the right password.
    expect(() => exchange(new ScramServer(pencil(), binding), { ...plus, binding: crypto.randomBytes(32) })).toThrow(/channel binding/);
    // Without TLS, PLUS cannot even be selected.
    expect(() => exchange(new ScramServer(pencil()), { ...plus, binding })).toThrow(ScramProtocolError);
  });

  it("refuses a downgrade: 'y' (client could bind, thinks the server cannot) when PLUS was offered", () => {
    expect(() => exchange(new ScramServer(pencil(), crypto.randomBytes(32)), { mechanism: SCRAM, gs2: 'y,,' })).toThrow(/negotiation/);
    // Without TLS, 'y' is the honest answer of a client that supports binding.
    expect(exchange(new ScramServer(pencil()), { mechanism: SCRAM, gs2: 'y,,' })).toMatchObject({ ok: true });
    expect(() =>
      exchange(new ScramServer(pencil(), crypto.randomBytes(32)), { mechanism: SCRAM, gs2: 'p=tls-server-end-point,,' }),
    ).toThrow(ScramProtocolError);
  });

  it('rejects malformed messages and a nonce that was not the server’s', () => {
    for (const bad of ['', 'x,,n=,r=a', 'n,a=admin,n=,r=abc', 'n,,m=ext,n=,r=abc', 'n,,r=abc', 'n,,n=,r=a,b']) {
      expect(() => parseClientFirst(bad), bad).toThrow(ScramProtocolError);
    }
    const server = new ScramServer(pencil());
    server.start(SCRAM, 'n,,n=,r=abc');
    expect(() => server.finish('c=biws,r=abcWRONG,p=' + Buffer.alloc(32).toString('base64'))).toThrow(/nonce/);
    expect(() => new ScramServer(pencil()).finish('c=biws,r=x,p=y')).toThrow(ScramProtocolError);
  });

  it('parses only SCRAM-SHA-256 secrets', () => {
    expect(pencil()).toMatchObject({ iterations: 4096, salt: RFC.salt });
    for (const other of [undefined, '', 'md5d2a4e9c4d4e5c8e1', 'SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA', 'SCRAM-SHA-1$4096:a$b:c']) {
      expect(parseScramSecret(other), String(other)).toBeUndefined();
    }
  });
});

describe('plaintext password checks (SQL over HTTP)', () => {
  it('verifies against the secret, applying SASLprep as PostgreSQL does', async () => {
    expect(await verifyPassword(pencil(), 'pencil')).toBe(true);
    expect(await verifyPassword(pencil(), 'Pencil')).toBe(false);
    // A decomposed "é" and a no-break space hash as the composed letter and a space.
    const secret = parseScramSecret(scramSecret('caf\u00e9 au lait'))!;
    expect(await verifyPassword(secret, 'cafe\u0301\u00a0au lait')).toBe(true);
    expect(saslPrep('plain ascii\u0001')).toBe('plain ascii\u0001');
  });

  it('remembers a success per secret and password, so a changed password is never taken from memory', async () => {
    let derivations = 0;
    const check = new PasswordCheck(2, async (secret, password) => {
      derivations++;
      return verifyPassword(secret, password);
    });
    const before = scramSecret('old-password');
    expect(await check.verify('app', before, 'old-password')).toBe(true);
    expect(await check.verify('app', before, 'old-password')).toBe(true);
    expect(derivations).toBe(1);
    // A wrong password is derived every time and never remembered.
    expect(await check.verify('app', before, 'guess')).toBe(false);
    expect(await check.verify('app', before, 'guess')).toBe(false);
    expect(derivations).toBe(3);
    // After ALTER ROLE … PASSWORD the role has a new secret: the old password fails.
    const after = scramSecret('new-password');
    expect(await check.verify('app', after, 'old-password')).toBe(false);
    expect(await check.verify('app', after, 'new-password')).toBe(true);
    // No such role: the same work as a wrong password, and a refusal.
    expect(await check.verify('ghost', undefined, 'old-password')).toBe(false);
    expect(derivations).toBe(6);
    expect(check.size).toBeLessThanOrEqual(2);
  });
});
