#!/usr/bin/env node
// A development orchestrator: makes an Ed25519 key pair (kept in .dblease/dev-orchestrator.json),
// prints its public JWKS to register, and signs provisioning assertions with it.
//   node docs/sign-assertion.mjs jwks                      → the public JWKS
//   node docs/sign-assertion.mjs sign <orc_id> <sub> [aud]  → a compact JWS, valid 120 s
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import fs from 'node:fs';
import path from 'node:path';

const file = path.resolve('.dblease/dev-orchestrator.json');

async function keys() {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const made = { kid: 'dev-1', public: await exportJWK(publicKey), private: await exportJWK(privateKey) };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(made), { mode: 0o600 });
  return made;
}

const [command, orchestrator, sub, audience = 'http://127.0.0.1:8787'] = process.argv.slice(2);
const k = await keys();
if (command === 'jwks') {
  console.log(JSON.stringify({ keys: [{ ...k.public, kid: k.kid }] }));
} else if (command === 'sign' && orchestrator && sub) {
  const now = Math.floor(Date.now() / 1000);
  const jws = await new SignJWT({
    sub,
    email: `${sub}@example.com`,
    email_verified: true,
    scopes: ['databases:read', 'databases:write', 'databases:credentials', 'sql'],
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: k.kid })
    .setIssuer(orchestrator)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .setJti(crypto.randomUUID())
    .sign(await importJWK(k.private, 'EdDSA'));
  console.log(jws);
} else {
  console.error('usage: node docs/sign-assertion.mjs jwks | sign <orc_id> <sub> [audience]');
  process.exit(2);
}
