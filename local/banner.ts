import { superuserPasswordPath } from './postgres/superuser-password';
import type { LocalStack } from './stack';
import { tlsPaths } from './tls/index';

/** What a developer needs to point Neon clients at the local stack, printed at start. */
export function banner(stack: LocalStack): string {
  const { config, urls } = stack;
  const proxyHost = `${config.host}:${config.proxyPort}`;
  return [
    `dblease local stack ready (PostgreSQL 18, data in ${config.dataDir})`,
    `  Neon API     ${urls.api}`,
    `  API key      ${config.apiKey}${config.apiKey === 'dblease-local-dev-key' ? '   (development key; set DBLEASE_LOCAL_API_KEY to change)' : ''}`,
    `  SQL proxies  ${urls.proxy}/sql (SQL over HTTP), ws://${proxyHost}/v2 (WebSocket relay)`,
    `  PostgreSQL   ${config.host}:${config.pgPort} (each endpoint also on its own 127.1.x.y address)`,
    // Whether branching is size-independent here: the start-up probe of the data folder's filesystem.
    stack.api.storage.reflink
      ? '  Storage      branches are reflink clones (copy-on-write): branching takes the same time at any size'
      : '  Storage      no reflinks on this filesystem: branches are full copies (README, "The local stack", for XFS or Btrfs)',
    // Clients that verify trust this CA: sslrootcert=… (verify-ca anywhere, verify-full for localhost/127.0.0.1), NODE_EXTRA_CA_CERTS=….
    `  TLS CA       ${tlsPaths(config.dataDir).caCert} (sslrootcert= or NODE_EXTRA_CA_CERTS=; sslmode=require needs nothing)`,
    // The path only: the password itself is never printed.
    `  Control      the control cluster (metadata only) on ${config.host}:${config.pgInternalPort}, superuser password in ${superuserPasswordPath(config.dataDir)} (mode 0600)`,
    '',
    '  Neon CLI:    NEON_API_HOST=' + urls.api + ' NEON_API_KEY=' + config.apiKey + ' npx neon projects list',
    '  @neondatabase/serverless:',
    `    neonConfig.fetchEndpoint = () => 'http://${proxyHost}/sql';`,
    `    neonConfig.wsProxy = (host, port) => '${proxyHost}/v2?address=' + host + ':' + port;`,
    '    neonConfig.useSecureWebSocket = false; neonConfig.pipelineTLS = false; neonConfig.pipelineConnect = false;',
  ].join('\n');
}
