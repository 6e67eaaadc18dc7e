import crypto from 'node:crypto';

const ADJECTIVES = [
  'ancient',
  'billowing',
  'blue',
  'bold',
  'calm',
  'cold',
  'crimson',
  'damp',
  'dark',
  'divine',
  'dry',
  'empty',
  'falling',
  'fancy',
  'flat',
  'floral',
  'fragrant',
  'frosty',
  'gentle',
  'green',
  'hidden',
  'holy',
  'icy',
  'jolly',
  'late',
  'lingering',
  'little',
  'lively',
  'long',
  'lucky',
  'misty',
  'muddy',
  'nameless',
  'odd',
  'old',
  'orange',
  'patient',
  'plain',
  'polished',
  'proud',
  'purple',
  'quiet',
  'rapid',
  'raspy',
  'red',
  'restless',
  'rough',
  'round',
  'royal',
  'shiny',
  'shy',
  'silent',
  'small',
  'snowy',
  'soft',
  'solitary',
  'sparkling',
  'spring',
  'square',
  'steep',
  'still',
  'summer',
  'super',
  'sweet',
  'tiny',
  'twilight',
  'wandering',
  'weathered',
  'white',
  'wild',
  'winter',
  'wispy',
  'withered',
  'yellow',
  'young',
];
const NOUNS = [
  'art',
  'band',
  'bar',
  'base',
  'bird',
  'block',
  'boat',
  'bonus',
  'bread',
  'breeze',
  'brook',
  'bush',
  'butterfly',
  'cake',
  'cell',
  'cherry',
  'cloud',
  'credit',
  'darkness',
  'dawn',
  'dew',
  'disk',
  'dream',
  'dust',
  'feather',
  'field',
  'fire',
  'firefly',
  'flower',
  'fog',
  'forest',
  'frog',
  'frost',
  'glade',
  'glitter',
  'grass',
  'hall',
  'hat',
  'haze',
  'heart',
  'hill',
  'king',
  'lab',
  'lake',
  'leaf',
  'limit',
  'math',
  'meadow',
  'mode',
  'moon',
  'morning',
  'mountain',
  'mouse',
  'mud',
  'night',
  'paper',
  'pine',
  'poetry',
  'pond',
  'queen',
  'rain',
  'recipe',
  'resonance',
  'rice',
  'river',
  'salad',
  'scene',
  'sea',
  'shadow',
  'shape',
  'silence',
  'sky',
  'smoke',
  'snow',
  'snowflake',
  'sound',
  'star',
  'sun',
  'sunset',
  'surf',
  'term',
  'thunder',
  'tooth',
  'tree',
  'truth',
  'union',
  'unit',
  'violet',
  'voice',
  'water',
  'waterfall',
  'wave',
  'wildflower',
  'wind',
  'wood',
];

const pick = (list: string[]) => list[crypto.randomInt(list.length)];
const digits = (n: number) => Array.from({ length: n }, () => crypto.randomInt(10)).join('');
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomString = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[crypto.randomInt(alphabet.length)]).join('');

/** Neon-looking ids: `quiet-snow-71788278`, `br-…-a1b2c3d4`, `ep-…-a1b2c3d4`. */
export const projectId = () => `${pick(ADJECTIVES)}-${pick(NOUNS)}-${digits(8)}`;
export const branchId = () => `br-${pick(ADJECTIVES)}-${pick(NOUNS)}-${randomString(LOWER_ALNUM, 8)}`;
export const endpointId = () => `ep-${pick(ADJECTIVES)}-${pick(NOUNS)}-${randomString(LOWER_ALNUM, 8)}`;
export const operationId = () => crypto.randomUUID();
/** Neon's current password format: `npg_` and 12 letters or digits. */
export const password = () => `npg_${randomString(ALNUM, 12)}`;

const MAX_IDENT_BYTES = 63;

/**
 * Endpoint addresses: 127.1.0.1, 127.1.0.2, … skipping .0 and .255 in the last octet, never
 * 127.0.0.1 (the shared listener). The sequence is persisted, so addresses are never reused.
 */
export function endpointIp(sequence: number): string {
  const perBlock = 254;
  const block = Math.floor((sequence - 1) / perBlock);
  const last = ((sequence - 1) % perBlock) + 1;
  // Blocks are the middle two octets counted from 127.1.0: block 1 is 127.1.1.x, block 256 is
  // 127.2.0.x. (Adding the block to 1 << 16 and reading bits 8-15 put block 1 back on 127.1.0.x,
  // so endpoint 255 shared an address with endpoint 1 and connections reached the wrong one.)
  const base = (1 << 8) + block;
  if (base >= 1 << 16) throw new Error('endpoint address space exhausted');
  return `127.${base >> 8}.${base & 255}.${last}`;
}

/** PostgreSQL role and database names the API accepts (they are always quoted in SQL). */
const IDENT = /^[A-Za-z_][A-Za-z0-9_$-]*$/;
const RESERVED_ROLES = new Set([
  'postgres',
  'neon_superuser',
  'cloud_admin',
  'zenith_admin',
  'neon_service',
  'public',
  'none',
  'current_user',
  'session_user',
  'current_role',
  'neon_local',
]);
const RESERVED_DATABASES = new Set(['postgres', 'template0', 'template1', 'neon_local_meta']);

export function identProblem(name: string, kind: 'role' | 'database'): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (Buffer.byteLength(name) > MAX_IDENT_BYTES) return 'must be at most 63 bytes';
  if (!IDENT.test(name)) return 'must start with a letter or underscore and contain only letters, digits, _, $ and -';
  if (name.toLowerCase().startsWith('pg_')) return 'must not start with pg_ (reserved by PostgreSQL)';
  const reserved = kind === 'role' ? RESERVED_ROLES : RESERVED_DATABASES;
  if (reserved.has(name.toLowerCase())) return `"${name}" is reserved`;
  return undefined;
}

/** `org-quiet-snow-71788278`, as Neon names organizations. */
export const organizationId = () => `org-${pick(ADJECTIVES)}-${pick(NOUNS)}-${digits(8)}`;
