// Proves the CloudEvents Kafka binding as metering reads it: binary mode (ce_* headers, data as the value) and
// structured mode give the same event object the HTTP path validates; anything else is refused with a code.
import { fromKafkaRecord, reportingAccountOf } from './cloudevents-kafka';

const data = { meter: 'tokens_in', quantity: '12' };
const attrs = {
  specversion: '1.0',
  id: 'e-1',
  source: '//agent',
  type: 'com.cx.usage.v1',
  subject: 'acct-1',
  time: '2026-03-10T08:00:00Z',
  cxaccount: 'acct-1',
};
const binaryHeaders = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`ce_${k}`, v])),
  'content-type': 'application/json',
  ...extra,
});

describe('CloudEvents Kafka binding', () => {
  it('reads binary and structured mode into the same event', () => {
    const binary = fromKafkaRecord({ value: Buffer.from(JSON.stringify(data)), headers: binaryHeaders() });
    const structured = fromKafkaRecord({
      value: Buffer.from(JSON.stringify({ ...attrs, data })),
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    });
    expect(binary).toEqual({ event: { ...attrs, datacontenttype: 'application/json', data } });
    expect(structured).toEqual({ event: { ...attrs, data } });
    expect(reportingAccountOf((binary as { event: unknown }).event)).toBe('acct-1');
  });

  it('refuses what is not a CloudEvent, in order', () => {
    const table: [string, Buffer, Record<string, string>, string, string][] = [
      ['no mode at all', Buffer.from('{}'), {}, 'METERING.UNSUPPORTED_CONTENT_TYPE', 'content-type'],
      [
        'batch mode (not in the Kafka binding)',
        Buffer.from('[]'),
        { 'content-type': 'application/cloudevents-batch+json' },
        'METERING.UNSUPPORTED_CONTENT_TYPE',
        'content-type',
      ],
      [
        'structured, malformed JSON',
        Buffer.from('{"id": '),
        { 'content-type': 'application/cloudevents+json' },
        'METERING.MALFORMED_JSON',
        '',
      ],
      [
        'binary, data not JSON',
        Buffer.from('x'),
        binaryHeaders({ 'content-type': 'text/plain' }),
        'METERING.UNSUPPORTED_CONTENT_TYPE',
        'datacontenttype',
      ],
      ['binary, malformed data', Buffer.from('{'), binaryHeaders(), 'METERING.MALFORMED_JSON', 'data'],
    ];
    for (const [what, value, headers, code, field] of table) {
      const r = fromKafkaRecord({ value, headers });
      expect({ what, r }).toMatchObject({ what, r: { rejected: { code, field } } });
    }
  });

  it('requires the reporting account on Kafka', () => {
    expect(reportingAccountOf({ ...attrs, cxaccount: undefined })).toMatchObject({
      code: 'METERING.MISSING_FIELD',
      field: 'cxaccount',
    });
    expect(reportingAccountOf({ ...attrs, cxaccount: 5 })).toMatchObject({ code: 'METERING.INVALID_FIELD' });
  });
});
