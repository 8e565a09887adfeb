/** The fleet samples behind the web UI's charts (see `store/port/runners.ts`): one row per slot. */
import type { FleetSampleRecord } from '../../port/runners.js';
import type { SqlContext } from '../flavor.js';
import { fromDate } from '../rows.js';

export async function addFleetSample(
  ctx: SqlContext,
  sample: FleetSampleRecord,
  keepFromSlot: number,
): Promise<void> {
  await ctx.db
    .insertInto('fleet_samples')
    .values({
      slot: sample.slot,
      at: ctx.flavor.toDate(sample.at),
      pending: sample.pending,
      oldest_wait_seconds: sample.oldestWaitSeconds,
      machines: sample.machines,
    })
    // another replica's sample of the same slot stands
    .onConflict((oc) => oc.column('slot').doNothing())
    .execute();
  await ctx.db.deleteFrom('fleet_samples').where('slot', '<', keepFromSlot).execute();
}

export async function listFleetSamples(ctx: SqlContext, fromSlot: number): Promise<FleetSampleRecord[]> {
  const rows = await ctx.db
    .selectFrom('fleet_samples')
    .selectAll()
    .where('slot', '>=', fromSlot)
    .orderBy('slot')
    .execute();
  return rows.map((r) => ({
    slot: r.slot,
    at: fromDate(r.at),
    pending: r.pending,
    oldestWaitSeconds: r.oldest_wait_seconds,
    machines: r.machines,
  }));
}
