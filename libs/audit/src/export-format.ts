import { type RecordedEvent, parsePosition, positionToString } from '@cx/event-store';

// The NDJSON export format (`cx audit export`, `cx audit verify --file`): one event per line, in $all order.
//   {"position":"c/p","stream":"…","revision":"n","id":"…","type":"…","data":…,"metadata":…,"created":"ISO 8601"}
// Revisions and positions are decimal strings because they are 64-bit. Data and metadata are kept as the store
// returned them, so hashes recompute exactly.

export interface ExportLine {
  position: string;
  stream: string;
  revision: string;
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  created: string;
}

export const toExportLine = (e: RecordedEvent): string =>
  JSON.stringify({
    position: positionToString(e.position),
    stream: e.streamId,
    revision: e.revision.toString(),
    id: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata,
    created: e.created.toISOString(),
  } satisfies ExportLine);

/** Parses one line; throws a TypeError saying what is wrong with it. */
export const fromExportLine = (line: string): RecordedEvent => {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new TypeError('not JSON (a truncated or corrupted line?)');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('not a JSON object');
  const o = v as Partial<ExportLine>;
  for (const field of ['position', 'stream', 'revision', 'id', 'type', 'created'] as const) {
    if (typeof o[field] !== 'string') throw new TypeError(`"${field}" is missing or not a string`);
  }
  if (!('data' in o)) throw new TypeError('"data" is missing');
  if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)) {
    throw new TypeError('"metadata" is missing or not an object');
  }
  if (!/^\d{1,20}$/.test(o.revision as string)) throw new TypeError(`"revision" ${o.revision} is not a revision`);
  return {
    position: parsePosition(o.position as string),
    streamId: o.stream as string,
    revision: BigInt(o.revision as string),
    id: o.id as string,
    type: o.type as string,
    data: o.data,
    metadata: o.metadata,
    created: new Date(o.created as string),
  };
};
