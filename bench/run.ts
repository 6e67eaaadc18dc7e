import { benchBreakdown } from './breakdown';
import { benchLocalStack } from './local-stack';
import { benchSweep } from './sweep';
import { benchProvisioning } from './provisioning';
import { benchOverheadAlone } from './provisioning-overhead';

/**
 * `npm run bench [-- name…]`: runs the named benchmarks (all when none is named), each on a
 * throw-away local stack, and prints and writes their figures.
 */
const benchmarks: Record<string, () => Promise<object>> = {
  'local-stack': benchLocalStack,
  sweep: benchSweep,
  provisioning: benchProvisioning,
  breakdown: benchBreakdown,
  overhead: benchOverheadAlone,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  await benchmarks[name]();
}
