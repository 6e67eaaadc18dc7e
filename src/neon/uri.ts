/**
 * Connection strings without and with their password. The warm pool keeps only the first kind:
 * a pool entry's fill-time password is never stored, and the claimer's fresh one is put in here.
 */
export function withoutPassword(uri: string): string {
  const url = new URL(uri);
  url.password = '';
  return url.toString();
}

export function withPassword(uri: string, password: string): string {
  const url = new URL(uri);
  url.password = encodeURIComponent(password);
  return url.toString();
}
