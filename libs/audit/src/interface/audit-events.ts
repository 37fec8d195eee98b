import { type EventStore, type Position, type RecordedEvent, comparePositions, parsePosition } from '@cx/event-store';
import { DomainError } from '@cx/shared-kernel';
import { toExportLine } from '../export-format';

// GET /v1/audit/events: every event in $all order as the export's NDJSON (one event per line, the same format
// `cx audit export` writes and `cx audit verify --file/--url` reads), filtered, resumable with `after`.
// Framework-free: the controller turns the lines into a stream with back-pressure.

export interface AuditEventsQuery {
  /** Strictly after this global position. */
  after?: string;
  /** A stream name, or a prefix ending in `*` (e.g. `book-*`). */
  stream?: string;
  /** An event type, exactly. */
  type?: string;
  correlationId?: string;
  /** ISO 8601 instants bounding when the store recorded the event: from inclusive, to exclusive. */
  from?: string;
  to?: string;
}

export interface AuditEventsFilter {
  after: Position | null;
  stream: { exact: string } | { prefix: string } | null;
  type: string | null;
  correlationId: string | null;
  fromMs: number | null;
  toMs: number | null;
}

const instant = (value: string | undefined, field: string): number | null => {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw DomainError.invalid('AUDIT.INVALID_QUERY', `${field} must be an ISO 8601 instant`, field);
  }
  return ms;
};

/** Validates the query; a refusal names the field at fault. */
export const parseAuditEventsQuery = (q: AuditEventsQuery): AuditEventsFilter => {
  let after: Position | null = null;
  if (q.after !== undefined) {
    try {
      after = parsePosition(q.after);
    } catch {
      throw DomainError.invalid('AUDIT.INVALID_QUERY', 'after must be a global position ("123" or "123/456")', 'after');
    }
  }
  let stream: AuditEventsFilter['stream'] = null;
  if (q.stream !== undefined) {
    if (q.stream.length === 0 || q.stream.length > 512 || q.stream === '*') {
      throw DomainError.invalid(
        'AUDIT.INVALID_QUERY',
        'stream must be a stream name or a prefix ending in *',
        'stream',
      );
    }
    stream = q.stream.endsWith('*') ? { prefix: q.stream.slice(0, -1) } : { exact: q.stream };
  }
  const fromMs = instant(q.from, 'from');
  const toMs = instant(q.to, 'to');
  if (fromMs !== null && toMs !== null && toMs < fromMs) {
    throw DomainError.invalid('AUDIT.INVALID_QUERY', 'to must not be before from', 'to');
  }
  return {
    after,
    stream,
    type: q.type ?? null,
    correlationId: q.correlationId ?? null,
    fromMs,
    toMs,
  };
};

const matches = (f: AuditEventsFilter, e: RecordedEvent): boolean => {
  if (f.after !== null && comparePositions(e.position, f.after) <= 0) return false;
  if (
    f.stream !== null &&
    ('exact' in f.stream ? e.streamId !== f.stream.exact : !e.streamId.startsWith(f.stream.prefix))
  )
    return false;
  if (f.type !== null && e.type !== f.type) return false;
  if (f.correlationId !== null && e.metadata.correlationId !== f.correlationId) return false;
  const created = e.created.getTime();
  if (f.fromMs !== null && created < f.fromMs) return false;
  if (f.toMs !== null && created >= f.toMs) return false;
  return true;
};

/**
 * The lines, read lazily from the store (the store pages its reads), so memory stays flat however long the
 * history: the consumer pulls one line at a time. The stream (or type) filter runs in the store.
 */
export async function* auditEventLines(store: EventStore, f: AuditEventsFilter): AsyncGenerator<string> {
  const filter =
    f.stream !== null
      ? { streamNamePrefixes: ['exact' in f.stream ? f.stream.exact : f.stream.prefix] }
      : f.type !== null
        ? { eventTypePrefixes: [f.type] }
        : undefined;
  for await (const e of store.readAll({ fromPosition: f.after ?? 'start', ...(filter ? { filter } : {}) })) {
    if (matches(f, e)) yield `${toExportLine(e)}\n`;
  }
}
