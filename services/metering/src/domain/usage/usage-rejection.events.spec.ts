// Proves what makes two rejections "the same" (and so recorded once): the record's (source, id) and the reason;
// the record's position only when it carried no (source, id); and no (source, id) can pass for a position.
import { usageRejectionStream } from './usage-rejection.events';

const base = { source: '//a', id: 'e-1', code: 'METERING.UNKNOWN_METER', field: 'data.meter', position: 't/0/5' };

describe('usageRejectionStream', () => {
  it('names one stream per (source, id, code, field), wherever the record was read', () => {
    expect(usageRejectionStream({ ...base, position: 't/3/99' })).toBe(usageRejectionStream(base));
  });

  it.each([
    ['another source', { source: '//b' }],
    ['another id', { id: 'e-2' }],
    ['another code', { code: 'METERING.INVALID_FIELD' }],
    ['another field', { field: 'data.quantity' }],
    ['parts split differently', { source: '//a","e-1', id: '' }],
  ])('names another stream for %s', (_, change) => {
    expect(usageRejectionStream({ ...base, ...change })).not.toBe(usageRejectionStream(base));
  });

  it('tells records without (source, id) apart by position, and never confuses them with an identity', () => {
    const noId = { ...base, source: null, id: null };
    expect(usageRejectionStream(noId)).toBe(usageRejectionStream({ ...noId }));
    expect(usageRejectionStream({ ...noId, position: 't/0/6' })).not.toBe(usageRejectionStream(noId));
    expect(usageRejectionStream({ ...base, source: null })).toBe(usageRejectionStream(noId));
    expect(usageRejectionStream({ ...base, source: 'at', id: 't/0/5' })).not.toBe(usageRejectionStream(noId));
    expect(usageRejectionStream(noId)).toMatch(/^usagerejection-[0-9a-f]{64}$/);
  });
});
