/**
 * The frame of every dashboard page: landmarks (header, nav, main), one `<h1>` per page (its
 * title), the one stylesheet. No inline script or style: the Content-Security-Policy allows none.
 */
import type { Child } from 'hono/jsx';
import type { DashboardVisit } from './session';

export const NAV = [
  ['/', 'Overview'],
  ['/databases', 'Databases'],
  ['/tokens', 'Tokens'],
  ['/sessions', 'Sessions'],
  ['/policy', 'Policy'],
  ['/events', 'Events'],
  ['/stop', 'Stop everything'],
] as const;

/** The hidden form-token field every state-changing form carries. */
export const FormToken = ({ value }: { value: string }) => <input type="hidden" name="csrf" value={value} />;

export function Layout(props: { title: string; visit?: DashboardVisit; account?: string; current?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · dblease</title>
        <link rel="stylesheet" href="/dashboard.css" />
        {/* No icon: without this line every page costs a browser a 404 for /favicon.ico. */}
        <link rel="icon" href="data:," />
        <script src="/dashboard.js" defer></script>
      </head>
      <body>
        <header class="top">
          <span class="brand">dblease</span>
          {props.visit && (
            <>
              <nav aria-label="Main">
                <ul>
                  {NAV.map(([href, label]) => (
                    <li>
                      <a href={href} aria-current={props.current === href ? 'page' : undefined}>
                        {label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
              <form method="post" action="/signout" class="signout">
                <FormToken value={props.visit.csrf} />
                {props.account && <span class="account-name">{props.account}</span>}
                <button type="submit">Sign out</button>
              </form>
            </>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}
