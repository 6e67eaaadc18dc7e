import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { loopbackHostOnly } from '../loopback-host';
import type { Deps } from './context';
import { Failure } from './errors';
import { acceptRefusal, refusalFailure } from './transfers';
import { CLAIM_CSP, claimAccepted, claimForm, claimRefused, type ClaimDetails } from './claim-html';

/**
 * The claim link of a transfer request, as Neon's console offers one: a person opens
 * `/claim/<project_id>/<request_id>`, pastes an organization's API key and presses Accept.
 * The key travels in the POST body only. No CSRF token is needed: the page uses no ambient
 * credential (no cookie), so a forged form could only carry a key its author already has, and
 * the request id, the capability, is in the URL that author would need anyway.
 */
export function claimPage(deps: Deps): Hono {
  const { transfers, orgs } = deps;
  const app = new Hono();
  // As for the API: a page on a rebound name gets nothing.
  app.use('*', loopbackHostOnly());
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Content-Security-Policy', CLAIM_CSP);
    c.res.headers.set('X-Frame-Options', 'DENY');
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Cache-Control', 'no-store');
  });

  /** The request and what the page shows of it, or the refusal page when there is none. */
  function lookup(c: Context): { details: ClaimDetails } | { refused: Response } {
    try {
      const { request, project } = transfers.find(c.req.param('project_id')!, c.req.param('request_id')!);
      const details = { projectId: project.id, projectName: project.name, requestId: request.id, expiresAt: request.expires_at };
      const refusal = acceptRefusal(request, project, Date.now());
      if (!refusal) return { details };
      const failure = refusalFailure(refusal, request);
      return { refused: c.html(claimRefused(failure.message, details), failure.status) };
    } catch (err) {
      if (err instanceof Failure) return { refused: c.html(claimRefused(err.message), err.status) };
      throw err;
    }
  }

  app.get('/:project_id/:request_id', (c) => {
    const found = lookup(c);
    return 'refused' in found ? found.refused : c.html(claimForm(found.details));
  });

  app.post(
    '/:project_id/:request_id',
    bodyLimit({ maxSize: 8 * 1024, onError: (c) => c.html(claimRefused('the form is larger than an API key needs'), 413) }),
    async (c) => {
      const found = lookup(c);
      if ('refused' in found) return found.refused;
      const form = await c.req.parseBody();
      const key = typeof form.api_key === 'string' ? form.api_key.trim() : '';
      if (!key) return c.html(claimForm(found.details, 'API key: paste the key of the organization that receives the project.'), 400);
      const orgId = orgs.authenticate(key);
      if (!orgId) return c.html(claimForm(found.details, 'API key: this key belongs to no organization of this stack.'), 401);
      try {
        await transfers.accept(found.details.projectId, found.details.requestId, orgId, Date.now());
      } catch (err) {
        if (err instanceof Failure) return c.html(claimRefused(err.message, found.details), err.status);
        throw err;
      }
      return c.html(claimAccepted(found.details, orgs.view(orgId)!));
    },
  );
  return app;
}
