/**
 * The dashboard's progressive enhancement, served at `/dashboard.js`: copy buttons and relative
 * times. Every page works without it.
 */
export const SCRIPT = `'use strict';
document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-copy]');
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => { button.textContent = 'Copied'; }, () => {});
});
const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
for (const el of document.querySelectorAll('time[data-relative]')) {
  const seconds = (Date.parse(el.dateTime) - Date.now()) / 1000;
  const [unit, size] = units.find(([, s]) => Math.abs(seconds) >= s) || units[3];
  el.textContent = format.format(Math.round(seconds / size), unit);
}
`;
