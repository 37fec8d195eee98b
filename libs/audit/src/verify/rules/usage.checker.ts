import { type RecordedEvent, positionToString } from '@cx/event-store';
import { isDecimalString } from '@cx/shared-kernel';
import { METER_STREAM_PREFIX, USAGE_STREAM_PREFIX, type UsageRecordedData, usageStream } from '../../service-domains';
import type { Checker, Report } from '../checker';
import type { AuditRule } from './rule';

// Usage (issue 8): no `(source, id)` counted twice, and every counted event recomputable into the aggregates.
//
// Metering claims an identity by creating the stream `usage-<sha256(source NUL id)>` with its one UsageRecorded,
// so "counted once" is provable without remembering identities: every UsageRecorded must sit in the stream its
// own (source, id) names, at revision 0. A second event in that stream, or one in another stream, is a second
// count. Memory stays flat however many events there are (no set of seen ids, nothing to spill).
//
// Recomputable: the aggregates metering serves are sums over these events per subject, meter and minute, so each
// event must carry a decimal quantity (not negative), a readable time and a meter that was defined.
//
// Checks: usage.counted-twice, usage.stream-mismatch, usage.malformed, usage.unknown-meter.

export class UsageChecker implements Checker {
  readonly name = 'usage';
  private readonly meters = new Set<string>();
  usageChecked = 0;

  onEvent(e: RecordedEvent, report: Report): void {
    if (e.type === 'MeterDefined' && e.streamId.startsWith(METER_STREAM_PREFIX)) {
      const key = (e.data as { key?: unknown } | null)?.key;
      if (typeof key === 'string') this.meters.add(key);
      return;
    }
    if (e.type !== 'UsageRecorded' || !e.streamId.startsWith(USAGE_STREAM_PREFIX)) return;
    this.usageChecked++;
    const at = { stream: e.streamId, revision: e.revision.toString(), position: positionToString(e.position) };
    const fail = (check: string, message: string): void => report({ check, ...at, message });
    const d = e.data as Partial<UsageRecordedData> | null;
    if (typeof d !== 'object' || d === null || typeof d.source !== 'string' || typeof d.id !== 'string') {
      return fail('usage.malformed', 'UsageRecorded without a source and id');
    }
    const ident = `(${JSON.stringify(d.source)}, ${JSON.stringify(d.id)})`;
    if (usageStream(d.source, d.id) !== e.streamId) {
      fail('usage.stream-mismatch', `usage ${ident} is recorded outside the stream that claims its identity`);
    } else if (e.revision !== 0n) {
      fail('usage.counted-twice', `usage ${ident} is recorded again (revision ${e.revision} of its identity's stream)`);
    }
    if (!isDecimalString(d.quantity) || d.quantity.startsWith('-')) {
      fail('usage.malformed', `usage ${ident} has quantity ${String(d.quantity)}, not a non-negative decimal`);
    }
    if (typeof d.time !== 'string' || Number.isNaN(Date.parse(d.time))) {
      fail('usage.malformed', `usage ${ident} has no readable time`);
    }
    if (typeof d.meter !== 'string' || typeof d.subject !== 'string') {
      fail('usage.malformed', `usage ${ident} names no meter or subject`);
    } else if (this.meters.size > 0 && !this.meters.has(d.meter)) {
      // Only judged where meter definitions are in the sources at all (metering keeps both in its store).
      fail('usage.unknown-meter', `usage ${ident} counts meter ${d.meter}, which was never defined`);
    }
  }
}

export const usageRule: AuditRule = { name: 'usage', create: () => new UsageChecker() };
