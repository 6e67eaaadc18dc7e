import crypto from 'node:crypto';
import type { Organization } from '@neondatabase/api-client';
import { LOCAL_ORG_ID, now, type OrganizationRec } from './model';
import { organizationId } from './names';
import type { Store } from './store';

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest();

/** When the default organization "was made": fixed, so its view never changes between starts. */
const DEFAULT_CREATED = '2024-01-01T00:00:00Z';

function handleFor(name: string, id: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug ? `${slug}-${id}` : id;
}

/**
 * The organizations and their API keys. The default organization owns the stack's own key
 * (`DBLEASE_LOCAL_API_KEY`), so it follows the configuration and is never stored; the others
 * are made by `POST /_admin/organizations` and kept in the metadata store as key hashes.
 */
export class Organizations {
  private readonly defaultKey: Buffer;
  /** Key hash (hex) → organization id. */
  private readonly byKey = new Map<string, string>();

  constructor(
    apiKey: string,
    private readonly store: Store,
  ) {
    this.defaultKey = sha256(apiKey);
    for (const org of store.organizations.values()) this.byKey.set(org.key_sha256, org.id);
  }

  /** The organization a presented key belongs to, if any. */
  authenticate(key: string): string | undefined {
    const hash = sha256(key);
    // Equal lengths after hashing, so the comparison's time says nothing about the stack key.
    if (crypto.timingSafeEqual(hash, this.defaultKey)) return LOCAL_ORG_ID;
    return this.byKey.get(hash.toString('hex'));
  }

  /** A new organization and its key; the key is returned this once and only its hash is kept. */
  async create(name: string): Promise<{ org: OrganizationRec; apiKey: string }> {
    const apiKey = `dblease_org_${crypto.randomBytes(32).toString('base64url')}`;
    let id = organizationId();
    while (this.exists(id)) id = organizationId();
    const at = now();
    const org: OrganizationRec = {
      id,
      name,
      handle: handleFor(name, id),
      key_sha256: sha256(apiKey).toString('hex'),
      created_at: at,
      updated_at: at,
    };
    await this.store.put('organization', org);
    this.byKey.set(org.key_sha256, org.id);
    return { org, apiKey };
  }

  exists(id: string): boolean {
    return id === LOCAL_ORG_ID || this.store.organizations.has(id);
  }

  /** Neon's `Organization`. */
  view(id: string): Organization | undefined {
    const common = { plan: 'local', managed_by: 'console', require_mfa: false };
    if (id === LOCAL_ORG_ID)
      return { id, name: 'Local', handle: 'local', created_at: DEFAULT_CREATED, updated_at: DEFAULT_CREATED, ...common };
    const org = this.store.organizations.get(id);
    if (!org) return undefined;
    return { id: org.id, name: org.name, handle: org.handle, created_at: org.created_at, updated_at: org.updated_at, ...common };
  }
}
