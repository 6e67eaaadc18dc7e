/**
 * The account object's side of spend reconciliation: the provider's figures (fetched by
 * src/neon/spend-figures.ts) priced and booked against each record's reservation, in one
 * transaction per call. See src/core/policy/spend-booking.ts for why this keeps the cap exact.
 */
import { eq } from 'drizzle-orm';
import type { SpendFigure } from '../src/neon/spend-figures';
import type { PriceTable } from '../src/core/policy/cost';
import { bookActual, consumptionCostMicroUsd } from '../src/core/policy/spend-booking';
import { databases } from './schema';
import type { Store } from './store';

export interface SpendReport {
  /** Records whose booking changed. */
  booked: number;
  /** Sum of what moved from reserved to spent (µ$). */
  moved_micro_usd: number;
}

/** Books each figure on its record if the record can still cost money (ready or deleting). */
export function bookSpend(store: Store, figures: SpendFigure[], prices: PriceTable, now: number): SpendReport {
  return store.write('book spend', (db) => {
    const report: SpendReport = { booked: 0, moved_micro_usd: 0 };
    for (const f of figures) {
      const row = db.select().from(databases).where(eq(databases.id, f.id)).get();
      // A deleted record's booking is final (its reservation went back to the cap); a
      // provisioning one has no reservation to draw on yet beyond its own, and no figures.
      if (!row || (row.state !== 'ready' && row.state !== 'deleting')) continue;
      const actual = consumptionCostMicroUsd({ computeUnitSeconds: f.compute_unit_seconds, byteMonths: f.byte_months }, prices);
      const booking = bookActual({ spent: row.spentMicroUsd, reserved: row.reservedMicroUsd }, actual);
      db.update(databases)
        .set({ spentMicroUsd: booking.spent, reservedMicroUsd: booking.reserved, spentAsOf: Math.max(row.spentAsOf ?? 0, f.as_of) })
        .where(eq(databases.id, f.id))
        .run();
      if (booking.delta === 0) continue;
      store.adjustSpend(db, now, { reserved: -booking.delta, spent: booking.delta });
      report.booked += 1;
      report.moved_micro_usd += booking.delta;
    }
    return report;
  });
}
