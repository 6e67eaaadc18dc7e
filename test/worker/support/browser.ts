/**
 * A browser, as far as the dashboard can tell: a cookie jar and the headers a same-origin form
 * sends, over `exports.default.fetch` (the real app). For workerd tests of the dashboard's pages.
 */
import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';

export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly origin = 'http://dblease.test') {}

  async get(path: string): Promise<Response> {
    return this.send(path, { method: 'GET' });
  }

  /**
   * A form post; `site` is what the browser's Sec-Fetch-Site says about where the form was;
   * `headers` override what it sends (`origin: 'null'` as under Referrer-Policy: no-referrer).
   */
  async post(
    path: string,
    form: Record<string, string | string[]>,
    site: 'same-origin' | 'cross-site' = 'same-origin',
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const origin = site === 'same-origin' ? this.origin : 'https://evil.example';
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of ([] as string[]).concat(v)) body.append(k, one);
    return this.send(path, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'sec-fetch-site': site, ...headers },
    });
  }

  private async send(path: string, init: { method: string; body?: string; headers?: Record<string, string> }) {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await exports.default.fetch(new Request(`${this.origin}${path}`, { ...init, headers, redirect: 'manual' }));
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair!.split('=');
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name!);
      else this.cookies.set(name!, value!);
    }
    return res;
  }

  /** The form token of the page at `path` (the hidden `csrf` field of its first form). */
  async formToken(path: string): Promise<string> {
    const html = await (await this.get(path)).text();
    return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  }

  async signIn(token: string): Promise<Response> {
    return this.post('/signin', { csrf: await this.formToken('/signin'), token });
  }

  /** A signed-in page's HTML, asserting its status (200 unless told). */
  async page(path: string, status = 200): Promise<string> {
    const res = await this.get(path);
    const html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(status);
    return html;
  }

  /** Posts a signed-in form with the visit's form token (taken from `from`, the overview by default). */
  async submit(path: string, form: Record<string, string | string[]> = {}, from = '/'): Promise<Response> {
    return this.post(path, { csrf: await this.formToken(from), ...form });
  }
}
