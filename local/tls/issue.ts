// tsyringe, under @peculiar/x509, needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import crypto, { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Issues the local stack's certificates with @peculiar/x509 over Node's WebCrypto: a
 * per-install CA and a server certificate it signs. Loaded only when something must be issued
 * (first start, renewal), so an ordinary start does not pay for the library.
 */

x509.cryptoProvider.set(webcrypto as never);

/** ECDSA P-256 signed with SHA-256: small, fast, and what tls-server-end-point hashes with SHA-256. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
/** A CA outlives many server certificates; it is re-made only when gone or expired. */
export const CA_VALIDITY_DAYS = 3650;
/** The longest validity TLS clients (Apple's, Chrome) accept for a server certificate. */
export const SERVER_VALIDITY_DAYS = 397;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** The names every server certificate carries; endpoint addresses (127.1.x.y) are not among them. */
export const SERVER_NAMES = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

function serialNumber(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] &= 0x7f; // positive
  return bytes.toString('hex');
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function privatePem(key: webcrypto.CryptoKey): string {
  return crypto.KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Back-dated an hour, so a clock a little behind still accepts a fresh certificate. */
function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - 3_600_000), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

export async function createCa(now: Date): Promise<PemPair> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=dblease local stack CA ${now.toISOString().slice(0, 10)} ${crypto.randomBytes(3).toString('hex')}`,
    ...validity(now, CA_VALIDITY_DAYS),
    signingAlgorithm: ALGORITHM,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: privatePem(keys.privateKey) };
}

export async function issueServerCertificate(ca: PemPair, now: Date): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caDer = crypto.createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', caDer, ALGORITHM, false, ['sign']);
  const keys = await keyPair();
  const names = [
    ...SERVER_NAMES.dns.map((value) => ({ type: 'dns' as const, value })),
    ...SERVER_NAMES.ip.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: 'CN=localhost',
    issuer: caCert.subject,
    ...validity(now, SERVER_VALIDITY_DAYS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey as never,
    signingKey: signingKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: privatePem(keys.privateKey) };
}
