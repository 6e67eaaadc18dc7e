import crypto from 'node:crypto';
import { mockSecret, parseScramSecret, verifyPassword, type ScramSecret } from './scram.js';

/**
 * Checks the plaintext password of a SQL-over-HTTP request against a role's SCRAM secret.
 * PBKDF2 costs milliseconds per request, so successes are remembered, keyed by the secret and
 * the password together: a password change gives the role a new secret (a new salt), so an old
 * password can never match a remembered entry. Keys are HMACs under a per-process key, so the
 * cache holds no fast, unsalted hash of any password.
 */
export class PasswordCheck {
  private readonly verified = new Map<string, true>();
  private readonly cacheKey = crypto.randomBytes(32);
  private readonly mockKey = crypto.randomBytes(32);

  constructor(
    private readonly maxEntries = 1_000,
    /** The PBKDF2 check itself; a test counts its calls. */
    private readonly derive: (secret: ScramSecret, password: string) => Promise<boolean> = verifyPassword,
  ) {}

  private keyOf(secret: string, password: string): string {
    return crypto.createHmac('sha256', this.cacheKey).update(secret).update('\0').update(password).digest('base64');
  }

  /** `secret` undefined (no such role, or one that may not log in) fails after the same work as a wrong password. */
  async verify(user: string, secret: string | undefined, password: string): Promise<boolean> {
    const parsed = parseScramSecret(secret);
    if (!parsed) {
      await this.derive(mockSecret(user, this.mockKey), password);
      return false;
    }
    const key = this.keyOf(secret!, password);
    if (this.verified.has(key)) {
      // Most recently used last, so the oldest entry is the first to go.
      this.verified.delete(key);
      this.verified.set(key, true);
      return true;
    }
    if (!(await this.derive(parsed, password))) return false;
    this.verified.set(key, true);
    if (this.verified.size > this.maxEntries) this.verified.delete(this.verified.keys().next().value!);
    return true;
  }

  get size(): number {
    return this.verified.size;
  }
}
