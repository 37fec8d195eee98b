// Proves how the store decorator stamps correlation on appended events: inside a request's or a message's context,
// an event that names neither id gets both, one that names one keeps it and gets the other, one that names both is
// left as it is; outside any context nothing changes. And that log lines carry the context.
import { Writable } from 'node:stream';
import { withCorrelation } from '@cx/messaging';
import { createLogger } from './logger';
import { withCorrelationMetadata } from './metrics';

const ctx = { correlationId: 'corr-1', causationId: 'evt-0' };

describe('correlation on appended events', () => {
  const events = [
    { type: 'A', data: {} },
    { type: 'B', data: {}, metadata: { actor: { service: 's' } } },
    { type: 'C', data: {}, metadata: { correlationId: 'own' } },
    { type: 'D', data: {}, metadata: { correlationId: 'own', causationId: 'own-cause' } },
  ];

  it('fills what the caller left out, from the context, and keeps what it gave', () => {
    const out = withCorrelation(ctx, () => withCorrelationMetadata(events));
    expect(out.map((e) => e.metadata)).toEqual([
      { correlationId: 'corr-1', causationId: 'evt-0' },
      { actor: { service: 's' }, correlationId: 'corr-1', causationId: 'evt-0' },
      { correlationId: 'own', causationId: 'evt-0' },
      { correlationId: 'own', causationId: 'own-cause' },
    ]);
    // The caller's objects are not changed, and a complete event is passed on as it is.
    expect(events[0]).toEqual({ type: 'A', data: {} });
    expect(out[3]).toBe(events[3]);
  });

  it('changes nothing outside a context', () => {
    expect(withCorrelationMetadata(events)).toBe(events);
  });

  it('writes the context on every log line inside it, and none outside', () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger('info', 'test', stream);
    withCorrelation(ctx, () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', correlationId: 'corr-1', causationId: 'evt-0' });
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('correlationId');
  });
});
