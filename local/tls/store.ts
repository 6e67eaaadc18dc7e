import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PemPair } from './issue.js';

/**
 * The endpoint proxy's TLS material, kept in `<dataDir>/tls/` (folder 0700, files 0600): a
 * per-install CA (its key kept so the server certificate can be re-issued) and the server
 * certificate it signed. Made on first start, reused on later ones; clients that verify
 * trust `ca.crt` (`sslrootcert`, `NODE_EXTRA_CA_CERTS`).
 */

export interface TlsPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export function tlsPaths(dataDir: string): TlsPaths {
  const dir = path.join(dataDir, 'tls');
  return {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
  };
}

export interface TlsMaterial {
  paths: TlsPaths;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** What this start did: made everything, re-issued the server certificate, or reused both. */
  made: 'ca-and-server' | 'server' | 'nothing';
}

/** A server certificate this close to its end is re-issued at start. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** TLS material on disk that cannot be used and should not be silently replaced. */
export class TlsSetupError extends Error {}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    const { mode } = await fs.stat(file);
    // A copy restored with looser permissions is tightened, as the superuser password file is.
    if ((mode & 0o077) !== 0) await fs.chmod(file, 0o600);
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a file only its owner can read, atomically (a crash never leaves half a key). */
async function writePrivate(file: string, text: string): Promise<void> {
  const temp = `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, text, { mode: 0o600, flag: 'wx' });
  await fs.rename(temp, file);
}

function usableCa(pair: PemPair, now: Date): boolean {
  const cert = new crypto.X509Certificate(pair.certPem);
  return cert.ca && cert.checkPrivateKey(crypto.createPrivateKey(pair.keyPem)) && new Date(cert.validTo).getTime() > now.getTime();
}

/** The server certificate is reused only if this CA signed it, it matches its key, and it has a month or more left. */
function usableServer(ca: PemPair, pair: PemPair, now: Date): boolean {
  const caCert = new crypto.X509Certificate(ca.certPem);
  const cert = new crypto.X509Certificate(pair.certPem);
  return (
    cert.checkIssued(caCert) &&
    cert.verify(caCert.publicKey) &&
    cert.checkPrivateKey(crypto.createPrivateKey(pair.keyPem)) &&
    cert.checkHost('localhost') !== undefined &&
    cert.checkIP('127.0.0.1') !== undefined &&
    new Date(cert.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS
  );
}

function parses(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

export async function loadOrCreateTls(dataDir: string, now = new Date()): Promise<TlsMaterial> {
  const paths = tlsPaths(dataDir);
  await fs.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await fs.chmod(paths.dir, 0o700);
  const [caPem, caKey, certPem, keyPem] = await Promise.all(
    [paths.caCert, paths.caKey, paths.serverCert, paths.serverKey].map(readIfPresent),
  );

  let ca: PemPair;
  let made: TlsMaterial['made'] = 'nothing';
  if (caPem !== undefined && caKey !== undefined) {
    ca = { certPem: caPem, keyPem: caKey };
    if (!parses(() => usableCa(ca, now))) {
      // Clients may trust this CA already: replacing it behind their back would break them quietly.
      throw new TlsSetupError(
        `the CA in ${paths.dir} is unusable or expired; remove that folder to make a new one (clients must then trust the new ca.crt)`,
      );
    }
  } else {
    if (caPem !== undefined || caKey !== undefined) {
      throw new TlsSetupError(`${paths.dir} holds half a CA (ca.crt or ca.key is missing); remove that folder to make a new one`);
    }
    const { createCa } = await import('./issue.js');
    ca = await createCa(now);
    await writePrivate(paths.caKey, ca.keyPem);
    await writePrivate(paths.caCert, ca.certPem);
    made = 'ca-and-server';
  }

  let server = certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
  if (!server || made !== 'nothing' || !parses(() => usableServer(ca, server!, now))) {
    const { issueServerCertificate } = await import('./issue.js');
    server = await issueServerCertificate(ca, now);
    await writePrivate(paths.serverKey, server.keyPem);
    await writePrivate(paths.serverCert, server.certPem);
    if (made === 'nothing') made = 'server';
  }
  return { paths, caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem, made };
}
