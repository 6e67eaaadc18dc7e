/**
 * The dashboard's one stylesheet, served by the Worker at `/dashboard.css` (a module, so wrangler
 * and vitest bundle it alike with no loader of their own).
 */
export const STYLESHEET = `:root {
  --ink: #1b1f24;
  --muted: #5b6470;
  --line: #d8dde3;
  --accent: #0b63ce;
  --warn: #b45309;
  --bad: #b91c1c;
  --ok: #15803d;
  --bg: #f7f8fa;
  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif;
  color: var(--ink);
  background: var(--bg);
}
body { margin: 0; }
.top { display: flex; align-items: center; gap: 1.5rem; padding: 0.6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; }
.top nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
.top nav a { color: var(--ink); text-decoration: none; }
.top nav a[aria-current='page'] { color: var(--accent); font-weight: 600; }
.signout { margin-left: auto; display: flex; gap: 0.75rem; align-items: center; }
.account-name { color: var(--muted); }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
a { color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
label { display: block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
input, select, button { font: inherit; }
input[type='text'], input[type='password'], input[type='number'], select { padding: 0.35rem 0.5rem; border: 1px solid var(--line); border-radius: 4px; min-width: 16rem; }
button { padding: 0.35rem 0.9rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
.notice { border-left: 4px solid var(--accent); background: #fff; padding: 0.6rem 1rem; margin-bottom: 1rem; }
.notice.error { border-color: var(--bad); }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff; }
caption { text-align: left; font-weight: 600; padding: 0.5rem 0; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.inline-label { display: inline; font-weight: 400; }
.card.warn, .notice.warn { border-left: 4px solid var(--warn); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; }
.chart { width: 100%; height: auto; }
.chart .grid { stroke: var(--line); }
.chart .axis { stroke: var(--muted); }
.chart .axis-label { font-weight: 600; }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart .dot, .chart .legend.series-0 { fill: var(--accent); }
.chart .bar.series-1, .chart .legend.series-1 { fill: var(--ok); }
#chart-spend .bar.series-0, #chart-spend .legend.series-0 { fill: var(--accent); }
#chart-spend .bar.series-1, #chart-spend .legend.series-1 { fill: #93c5fd; }
.spend-bar { display: block; width: 100%; max-width: 32rem; height: 1rem; border-radius: 3px; }
.bar-track { fill: var(--line); } .bar-spent { fill: var(--accent); } .bar-reserved { fill: #93c5fd; }
meter { width: 100%; max-width: 32rem; height: 1rem; display: block; }
.field-caption { display: block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; }
.filters input[type='text'], .filters select { min-width: 12rem; }
.labels { list-style: none; margin: 0; padding: 0; display: inline-flex; flex-wrap: wrap; gap: 0.4rem; }
.tree.level-1 { padding-left: 1.5rem; } .tree.level-2 { padding-left: 3rem; } .tree.level-3 { padding-left: 4.5rem; }
.tree.level-4, .tree.level-5 { padding-left: 6rem; }
.branch-mark { color: var(--muted); }
.state-ready { color: var(--ok); } .state-deleting, .state-failed { color: var(--bad); }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; }
.actions form.inline { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
.actions form.inline label { margin: 0; }
.danger-zone { border-color: var(--bad); }
.timeline { padding-left: 1.2rem; } .timeline li { margin: 0.2rem 0; }
.secret { word-break: break-all; background: var(--bg); padding: 0.2rem 0.4rem; }
.event-data { font-size: 0.85em; word-break: break-all; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0.5rem 0; }
.check { margin-right: 1rem; white-space: nowrap; }
`;
