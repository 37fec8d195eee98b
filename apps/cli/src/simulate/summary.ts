import { table } from '../cli-context';
import type { SimulationSummary } from './simulate';

// The human summary of `cx simulate` (--json prints the SimulationSummary itself).

const counts = (m: Record<string, number>): string =>
  Object.keys(m).length === 0
    ? 'none'
    : Object.entries(m)
        .map(([k, v]) => `${k.replace(/^MATCHING\./, '')} ${v}`)
        .join(', ');

const hhmm = (iso: string) => (iso === '' ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`);

export const formatSummary = (s: SimulationSummary): string => {
  const r = s.reference;
  const src = r.source;
  const lines = [
    `cx simulate: seed ${s.seed}, ${s.sizes.providers} providers, ${s.sizes.buyers} buyers, ${s.sizes.orders} orders (${s.exchange.mode} exchange ${s.exchange.url}, ${(s.elapsedMs / 1000).toFixed(1)} s, ${s.requests} requests)`,
    '',
    `REFERENCE  ${r.resourceClass}: ${r.reference} ${r.currency}/accelerator-hour = median of ${src.offers} H100 SXM on-demand offers (${src.onDemandUsdPerGpuHour.median} USD per GPU-hour × ${src.usdCny})`,
    `           ${src.note}${src.file ? ` [${src.file}]` : ''}`,
    `GUIDANCE   ${s.guidance.bandId}: floor ${s.guidance.opening.floor} (${s.guidance.opening.versionId}, from ${hhmm(s.guidance.opening.effectiveFrom)}) -> ${s.guidance.raised.floor} (${s.guidance.raised.versionId}, announced ${hhmm(s.guidance.raised.announcedAt)}, from ${hhmm(s.guidance.raised.effectiveFrom)}); ceiling ${r.ceiling}`,
    `INSTRUMENT ${s.instrument} traded on ${s.tradingDay}`,
    '',
    'MARKET',
    `  orders      ${s.orders.planned} planned, ${s.orders.placed} sent; by status: ${counts(s.orders.byStatus)}`,
    `  trades      ${s.trades.count} trades, ${s.trades.acceleratorHours} accelerator-hours, notional ${s.trades.notional} ${r.currency}, VWAP ${s.trades.vwap ?? '-'} (low ${s.trades.low ?? '-'}, high ${s.trades.high ?? '-'}); below the floor in force: ${s.trades.belowFloor}`,
    `  cancelled   ${counts(s.orders.cancelled)}`,
    `  expired     ${counts(s.orders.expired)}`,
    `  rejected    ${counts(s.orders.rejected)}`,
    `  halt        ${s.halt.haltId}: ${hhmm(s.halt.haltedAt)} -> ${hhmm(s.halt.resumedAt)}, ${s.halt.ordersRefused} orders refused while halted`,
    `USAGE        ${s.usage.allocations} allocations; ${s.usage.eventsSent} events sent: ${s.usage.accepted} accepted (${s.usage.late} late), ${s.usage.duplicates} duplicates, ${s.usage.rejected} rejected`,
    `PERIODS      closed ${s.periodsClosed.join(', ')}`,
    '',
    `STATEMENTS (${r.currency}; opening of the first period, charges, fees and deposits summed over the periods, closing of the last; ledger: posted cash now)`,
    table([
      ['ACCOUNT', 'KIND', 'PERIODS', 'OPENING', 'CHARGES', 'FEES', 'DEPOSITS', 'CLOSING', 'LEDGER', 'AGREE'],
      ...s.statements.map((a) => [
        a.account,
        a.kind,
        String(a.periods.length),
        a.opening,
        a.charges,
        a.fees,
        a.deposits,
        a.closing,
        a.ledgerBalance,
        a.matchesLedger && a.periods.every((p) => p.csvAgrees) ? 'yes' : 'NO',
      ]),
    ]),
    '',
    s.audit.clean
      ? `AUDIT      CLEAN: ${s.audit.eventsChecked} events, ${s.audit.checkpointsChecked} checkpoints (keys ${s.audit.keysPinned ? 'pinned' : 'trusted on first use'}), rules ${s.audit.rules.join(', ')}`
      : `AUDIT      VIOLATIONS: ${s.audit.violationCount} in ${s.audit.eventsChecked} events`,
  ];
  if (!s.audit.clean) {
    lines.push(
      table([
        ['CHECK', 'STREAM', 'REVISION', 'MESSAGE'],
        ...s.audit.violations.map((v) => [v.check, v.stream, v.revision, v.message]),
      ]),
    );
  }
  for (const w of s.audit.warnings) lines.push(`warning: ${w}`);
  if (s.exchange.kept && s.exchange.store) lines.push('', `store kept: sqlite:${s.exchange.store}`);
  return lines.join('\n');
};
