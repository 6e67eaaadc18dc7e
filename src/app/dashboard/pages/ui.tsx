/**
 * The small pieces every dashboard page shares: times (relative and absolute, readable without
 * script), money, labels, notices, and reading a form into what a service takes.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { invalidFields } from '../../../core/errors';
import type { DashboardEnv } from '../session';

export type Ctx = Context<DashboardEnv>;

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "in 3 hours", "5 minutes ago": the server's rendering; /dashboard.js refreshes it in the reader's locale. */
export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? UNITS[3]!;
  return relative.format(Math.round(seconds / size), unit);
}

/** `2026-12-01 10:21 UTC`. */
export const absoluteTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** A time both ways: relative in the text, absolute next to it (and in the machine-readable attribute). */
export function When({ at, none = '—' }: { at: string | null | undefined; none?: string }) {
  if (!at) return <span class="muted">{none}</span>;
  return (
    <span class="when">
      <time datetime={at} data-relative>
        {relativeTime(at)}
      </time>{' '}
      <span class="muted">{absoluteTime(at)}</span>
    </span>
  );
}

export const usd = (v: number) => `$${v < 1 && v > 0 ? v.toFixed(4) : v.toFixed(2)}`;

export function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <ul class="labels">
      {entries.map(([k, v]) => (
        <li>
          <code>
            {k}:{v}
          </code>
        </li>
      ))}
    </ul>
  );
}

/**
 * A table's head row: one `<th scope="col">` per column. A column given as `{hidden}` is named
 * for screen readers only (an actions column).
 */
export function ColumnHeads({ columns }: { columns: (string | { hidden: string })[] }) {
  return (
    <thead>
      <tr>
        {columns.map((col) =>
          typeof col === 'string' ? (
            <th scope="col">{col}</th>
          ) : (
            <th scope="col">
              <span class="visually-hidden">{col.hidden}</span>
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/** A secret shown once, with a copy button (dashboard.js copies the element's text). */
export function CopyableSecret({ id, value }: { id: string; value: string }) {
  return (
    <>
      <code id={id} class="secret">
        {value}
      </code>{' '}
      <button type="button" class="secondary" data-copy={id}>
        Copy
      </button>
    </>
  );
}

export function Notice({ children, kind = 'info' }: { children: unknown; kind?: 'info' | 'error' }) {
  return (
    <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children as string}
    </p>
  );
}

/** The body of a posted form as plain strings (repeated fields become arrays). */
export async function formBody(c: Ctx): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'csrf') continue;
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

/** Checks `input` against the API's own request schema; a refusal names the fields, as the API's 400 does. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw invalidFields(parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(form)', message: i.message })));
}

/** A form number: empty is "not given"; anything else must be a number, or the field is named. */
export function formNumber(value: string | string[] | undefined, path: string): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw invalidFields([{ path, message: 'must be a number' }]);
  return n;
}
