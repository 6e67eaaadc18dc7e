// @ts-check
import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

/**
 * @typedef {{ type: 'string' | 'boolean', multiple?: boolean, short?: string, value?: string, help: string }} OptionSpec
 * `value` names the argument in help text (`--ttl <duration>`); `help` is its one-line description.
 * @typedef {Record<string, OptionSpec>} OptionSpecs
 * @typedef {{ values: Record<string, string | boolean | string[] | undefined>, positionals: string[] }} ParsedArgs
 */

/** Options every command takes. */
/** @type {OptionSpecs} */
export const GLOBAL_OPTIONS = {
  url: { type: 'string', value: 'url', help: 'dblease API base URL (default $DBLEASE_URL or http://127.0.0.1:8787)' },
  token: { type: 'string', value: 'token', help: 'bearer token (default $DBLEASE_TOKEN)' },
  json: { type: 'boolean', help: 'print the API response (or error) as JSON on stdout' },
  timeout: { type: 'string', value: 'duration', help: 'per-request timeout (default 60s)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

export const DEFAULT_URL = 'http://127.0.0.1:8787';

/**
 * Parses one command's arguments. node's parseArgs refuses `--param -1` as ambiguous; values
 * for SQL parameters and labels legitimately start with a dash, so a known string option
 * always takes the next argument as its value (as `--param=-1` would).
 * @param {string[]} argv
 * @param {OptionSpecs} specs the command's options, merged with GLOBAL_OPTIONS
 * @returns {ParsedArgs}
 */
export function parseCommandArgs(argv, specs) {
  const all = { ...GLOBAL_OPTIONS, ...specs };
  /** @type {Record<string, { type: 'string' | 'boolean', multiple?: boolean, short?: string }>} */
  const options = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  const joined = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      joined.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && i + 1 < argv.length) {
      joined.push(`${arg}=${argv[++i]}`);
    } else {
      joined.push(arg);
    }
  }
  try {
    const { values, positionals } = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
    // Booleans are never `multiple` here, so every array parseArgs returns holds strings.
    return { values: /** @type {ParsedArgs['values']} */ ({ ...values }), positionals };
  } catch (err) {
    throw usageError(err instanceof Error ? err.message.split('\n')[0] : String(err));
  }
}

const UNIT_SECONDS = /** @type {Record<string, number>} */ ({ s: 1, m: 60, h: 3600, d: 86400, w: 604800 });

/**
 * A lease length: plain seconds (`3600`) or units (`30m`, `1h`, `7d`, `1h30m`). The API takes
 * whole seconds, so the result is always a positive integer.
 * @param {string} text
 * @param {string} [flag] the flag's name, for the error message
 */
export function parseDuration(text, flag = '--ttl') {
  const s = text.trim().toLowerCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && Number.isSafeInteger(n)) return n;
  } else if (/^(\d+[smhdw])+$/.test(s)) {
    let total = 0;
    for (const [, n, unit] of s.matchAll(/(\d+)([smhdw])/g)) total += Number(n) * UNIT_SECONDS[unit];
    if (total > 0 && Number.isSafeInteger(total)) return total;
  }
  throw usageError(`${flag} must be a positive duration like 3600, 90s, 30m, 1h, 7d or 1h30m (got "${text}")`, {
    fields: [{ path: flag.replace(/^--/, ''), message: 'invalid duration' }],
  });
}

/**
 * `key=value` pairs from repeated `--label` flags. A key given twice is refused rather than
 * silently taking one of the values.
 * @param {string[] | undefined} list
 * @returns {Record<string, string> | undefined}
 */
export function parseLabels(list) {
  if (!list || list.length === 0) return undefined;
  /** @type {Record<string, string>} */
  const labels = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw usageError(`--label must be key=value (got "${item}")`, { fields: [{ path: 'labels', message: 'expected key=value' }] });
    const key = item.slice(0, eq);
    if (Object.hasOwn(labels, key))
      throw usageError(`--label ${key} given twice`, { fields: [{ path: `labels.${key}`, message: 'duplicate' }] });
    labels[key] = item.slice(eq + 1);
  }
  return labels;
}

/**
 * Where to send requests and with which token: flags first, then the environment.
 * @param {ParsedArgs['values']} values
 * @param {Record<string, string | undefined>} env
 */
export function resolveConfig(values, env) {
  const url = /** @type {string | undefined} */ (values.url) || env.DBLEASE_URL || DEFAULT_URL;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--url is not a URL: "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`--url must be http(s): "${url}"`);
  const token = /** @type {string | undefined} */ (values.token) || env.DBLEASE_TOKEN || undefined;
  const timeoutMs = values.timeout ? parseDuration(/** @type {string} */ (values.timeout), '--timeout') * 1000 : 60_000;
  return { url: url.replace(/\/+$/, ''), token, timeoutMs, insecure: parsed.protocol === 'http:' && !isLoopback(parsed.hostname) };
}

/** @param {string} host */
function isLoopback(host) {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/**
 * Exactly `count` positionals, or a usage error naming what is missing.
 * @param {string[]} positionals
 * @param {string[]} names e.g. ['database id']
 */
export function requirePositionals(positionals, names) {
  if (positionals.length < names.length) throw usageError(`missing ${names[positionals.length]}`);
  if (positionals.length > names.length) throw usageError(`unexpected argument "${positionals[names.length]}"`);
  return positionals;
}
