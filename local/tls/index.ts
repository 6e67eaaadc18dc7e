import tls from 'node:tls';
import { loadOrCreateTls, type TlsMaterial, type TlsPaths } from './store.js';

export { tlsPaths, TlsSetupError, type TlsPaths } from './store.js';

/** What the endpoint proxy needs to speak TLS: one secure context, and where the CA is for the banner. */
export interface ServerTls {
  context: tls.SecureContext;
  paths: TlsPaths;
  made: TlsMaterial['made'];
}

/** Loads the install's TLS material from `<dataDir>/tls/`, making what is missing. */
export async function loadServerTls(dataDir: string, now = new Date()): Promise<ServerTls> {
  const material = await loadOrCreateTls(dataDir, now);
  // TLS 1.2 is the oldest libpq, pg and Node still negotiate by default.
  const context = tls.createSecureContext({ cert: material.certPem, key: material.keyPem, minVersion: 'TLSv1.2' });
  return { context, paths: material.paths, made: material.made };
}
