import type { Rejection } from '../domain/usage/usage.validation';

// The CloudEvents Kafka protocol binding (cloudevents/spec kafka-protocol-binding.md, 1.0), as integrators produce
// to `cx.metering.usage-submitted.v1`:
// - binary content mode: the attributes are headers `ce_<name>`, the record value is the event's `data`, and the
//   `content-type` header is its `datacontenttype` (JSON here);
// - structured content mode: `content-type: application/cloudevents+json` and the whole event as the value.
// The binding has no batch mode. Either way the result is the structured JSON object the HTTP path receives, so
// both paths share one validation. Pure: no Kafka client here.

export interface KafkaRecordLike {
  value: Buffer;
  headers: Readonly<Record<string, string>>;
}

/** The extension attribute naming the account the integrator reports for (`cxaccount`, `ce_cxaccount`). */
export const ACCOUNT_ATTRIBUTE = 'cxaccount';

const STRUCTURED = 'application/cloudevents+json';
const CE_PREFIX = 'ce_';

const rejection = (code: string, field: string, message: string): { rejected: Rejection } => ({
  rejected: { code, field, message },
});

/** The media type of a content-type header, lower-cased, without parameters. */
const mediaTypeOf = (headers: Readonly<Record<string, string>>): string => {
  let raw = headers['content-type'];
  if (raw === undefined) {
    for (const name in headers) if (name.toLowerCase() === 'content-type') raw = headers[name];
  }
  return (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
};

const isJsonMediaType = (t: string): boolean => t === 'application/json' || t.endsWith('+json');

const parseJson = (value: Buffer, what: string): { ok: unknown } | { rejected: Rejection } => {
  try {
    return { ok: JSON.parse(value.toString('utf8')) as unknown };
  } catch {
    return rejection('METERING.MALFORMED_JSON', what === 'event' ? '' : 'data', `the ${what} is not valid JSON`);
  }
};

/** One Kafka record as a structured CloudEvent object, or why it cannot be read as one. */
export const fromKafkaRecord = (m: KafkaRecordLike): { event: unknown } | { rejected: Rejection } => {
  const mediaType = mediaTypeOf(m.headers);
  if (m.headers[`${CE_PREFIX}specversion`] !== undefined) {
    const event: Record<string, unknown> = {};
    for (const name in m.headers) {
      if (name.startsWith(CE_PREFIX) && name.length > CE_PREFIX.length) {
        event[name.slice(CE_PREFIX.length)] = m.headers[name];
      }
    }
    // An absent content type is JSON by the binding's default for this topic; anything else is not usage.
    if (mediaType !== '' && !isJsonMediaType(mediaType)) {
      return rejection(
        'METERING.UNSUPPORTED_CONTENT_TYPE',
        'datacontenttype',
        'binary mode data must be JSON (content-type application/json)',
      );
    }
    if (mediaType !== '') event.datacontenttype = mediaType;
    if (m.value.length > 0) {
      const data = parseJson(m.value, 'data');
      if ('rejected' in data) return data;
      event.data = data.ok;
    }
    return { event };
  }
  if (mediaType === STRUCTURED) {
    const parsed = parseJson(m.value, 'event');
    if ('rejected' in parsed) return parsed;
    return { event: parsed.ok };
  }
  return rejection(
    'METERING.UNSUPPORTED_CONTENT_TYPE',
    'content-type',
    `neither binary mode (ce_specversion header) nor structured mode (content-type ${STRUCTURED})`,
  );
};

/** The `cxaccount` attribute of a decoded event, or a rejection when it is missing or not a string. */
export const reportingAccountOf = (event: unknown): string | Rejection => {
  const v =
    typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[ACCOUNT_ATTRIBUTE] : undefined;
  if (v === undefined || v === null || v === '') {
    return {
      code: 'METERING.MISSING_FIELD',
      field: ACCOUNT_ATTRIBUTE,
      message: `${ACCOUNT_ATTRIBUTE} (the account the usage is reported for) is required on Kafka`,
    };
  }
  if (typeof v !== 'string' || v.length > 256) {
    return {
      code: 'METERING.INVALID_FIELD',
      field: ACCOUNT_ATTRIBUTE,
      message: `${ACCOUNT_ATTRIBUTE} must be a string`,
    };
  }
  return v;
};
