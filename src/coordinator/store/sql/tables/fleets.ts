/** Fleet reports and provider requests (see `store/port/runners.ts`): one upserted row each. */
import type { ManualSetting } from '../../../../api/fleet-report.js';
import type { FleetReportRecord, ProviderWantRecord } from '../../port/runners.js';
import type { SqlContext } from '../flavor.js';
import { fromDate } from '../rows.js';

export async function saveFleetReport(ctx: SqlContext, input: FleetReportRecord): Promise<void> {
  const values = {
    runner_name: input.runnerName,
    report: JSON.stringify({ providers: input.providers, machines: input.machines }),
    reported_at: ctx.flavor.toDate(input.reportedAt),
  };
  await ctx.db
    .insertInto('runner_fleet_reports')
    .values({ runner_id: input.runnerId, system_id: input.systemId, ...values })
    .onConflict((oc) => oc.columns(['runner_id', 'system_id']).doUpdateSet(values))
    .execute();
}

export async function listFleetReports(ctx: SqlContext, runnerId?: number): Promise<FleetReportRecord[]> {
  const rows = await ctx.db
    .selectFrom('runner_fleet_reports')
    .selectAll()
    .$if(runnerId !== undefined, (qb) => qb.where('runner_id', '=', runnerId ?? 0))
    // A deleted runner's reports stay behind (no foreign key): only registered runners count.
    .$if(runnerId === undefined, (qb) =>
      qb.where('runner_id', 'in', (eb) => eb.selectFrom('runners').select('runners.id')),
    )
    .orderBy('runner_id')
    .orderBy('system_id')
    .execute();
  return rows.map((r) => {
    const report = JSON.parse(r.report) as Pick<FleetReportRecord, 'providers' | 'machines'>;
    return {
      runnerId: r.runner_id,
      systemId: r.system_id,
      runnerName: r.runner_name,
      providers: report.providers,
      machines: report.machines,
      reportedAt: fromDate(r.reported_at),
    };
  });
}

export async function setProviderWant(
  ctx: SqlContext,
  input: ProviderWantRecord,
): Promise<ProviderWantRecord> {
  const values = {
    manual: input.manual,
    requested_at: ctx.flavor.toDate(input.requestedAt),
    user_id: input.userId,
  };
  await ctx.db
    .insertInto('runner_provider_wants')
    .values({ runner_id: input.runnerId, provider: input.provider, ...values })
    .onConflict((oc) => oc.columns(['runner_id', 'provider']).doUpdateSet(values))
    .execute();
  return input;
}

export async function listProviderWants(ctx: SqlContext, runnerId: number): Promise<ProviderWantRecord[]> {
  const rows = await ctx.db
    .selectFrom('runner_provider_wants')
    .selectAll()
    .where('runner_id', '=', runnerId)
    .orderBy('provider')
    .execute();
  return rows.map((r) => ({
    runnerId: r.runner_id,
    provider: r.provider,
    manual: r.manual as ManualSetting,
    requestedAt: fromDate(r.requested_at),
    userId: r.user_id,
  }));
}
