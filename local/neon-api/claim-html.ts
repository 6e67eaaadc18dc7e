import crypto from 'node:crypto';

/** `&`, `<`, `>`, `"` and `'` as entities: every value put into the page goes through this. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}' +
  'label{display:block;font-weight:600;margin-top:1rem}input{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}' +
  'button{margin-top:1rem;padding:.4rem 1.2rem;font:inherit}.error{color:#a00}.ok{color:#060}dt{font-weight:600}';

/**
 * Nothing but this one inline style may load: no script, no frame, no form posting elsewhere,
 * and no other page may frame this one (clickjacking the Accept button).
 */
export const CLAIM_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${crypto.createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface ClaimDetails {
  projectId: string;
  projectName: string;
  requestId: string;
  expiresAt: string;
}

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`,
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
  ].join('\n');
}

function details(d: ClaimDetails): string {
  return (
    `<dl><dt>Project</dt><dd>${escapeHtml(d.projectName)} (<code>${escapeHtml(d.projectId)}</code>)</dd>` +
    `<dt>Transfer request</dt><dd><code>${escapeHtml(d.requestId)}</code></dd>` +
    `<dt>Expires</dt><dd>${escapeHtml(d.expiresAt)}</dd></dl>`
  );
}

/** The form: the key goes in the POST body, never in the URL. */
export function claimForm(d: ClaimDetails, error?: string): string {
  const problem = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
  return page(
    'Accept a project transfer',
    details(d) +
      problem +
      '<p>Paste the API key of the organization that should receive this project.</p>' +
      '<form method="post">' +
      '<label for="api_key">API key</label>' +
      '<input id="api_key" name="api_key" type="password" autocomplete="off" required>' +
      '<button type="submit">Accept</button></form>',
  );
}

export function claimAccepted(d: ClaimDetails, org: { id: string; name: string }): string {
  return page(
    'Transfer accepted',
    details(d) +
      `<p class="ok">The project now belongs to the organization ${escapeHtml(org.name)} (<code>${escapeHtml(org.id)}</code>).</p>`,
  );
}

/** A refusal that no key can fix (unknown, expired or used request): no form. */
export function claimRefused(message: string, d?: ClaimDetails): string {
  return page('Cannot accept this transfer', (d ? details(d) : '') + `<p class="error" role="alert">${escapeHtml(message)}</p>`);
}
