import type { MiddlewareHandler } from 'hono';
import { generalError } from './neon-error';

/**
 * DNS rebinding: a web page on `evil.example` can make its own name resolve to 127.0.0.1 and
 * then talk to the local stack from the victim's browser as a same-origin page. The browser
 * still sends `Host: evil.example`, so every HTTP listener of the stack answers only requests
 * whose Host is one of the loopback names it can be reached by.
 */
export function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  const value = header.trim().toLowerCase();
  let host: string;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) {
    if (bracketed[2] !== undefined && !validPort(bracketed[2])) return false;
    host = bracketed[1];
    return host === '::1';
  }
  const plain = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (!plain) return false;
  if (plain[2] !== undefined && !validPort(plain[2])) return false;
  host = plain[1];
  if (host === 'localhost') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255);
}

function validPort(text: string): boolean {
  const n = Number(text);
  return n >= 1 && n <= 65535;
}

export const FOREIGN_HOST_MESSAGE =
  'Host header must name this machine (127.0.0.1, localhost or [::1]); other names are refused against DNS rebinding';

/** The check for Hono apps, answered in Neon's error shape. */
export function loopbackHostOnly(): MiddlewareHandler {
  return async (c, next) => {
    if (!isLoopbackHost(c.req.header('host'))) return generalError(c, 403, FOREIGN_HOST_MESSAGE, 'FORBIDDEN');
    await next();
  };
}
