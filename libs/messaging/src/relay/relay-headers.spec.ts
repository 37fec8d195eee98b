// Proves a consumer reads the source of a relayed message from the one compact header the relay writes now and
// from the one-header-per-field layout of messages relayed before it, and finds none in a message with neither.
import type { RecordedEvent } from '@cx/event-store';
import { RELAY_SOURCE_HEADER, relayHeaders, relaySourceOf } from './relay-headers';

const event: RecordedEvent = {
  id: '0b7e3c1e-8f7a-4d6e-9a51-3c7f0e4b2d10',
  streamId: 'order-42',
  revision: 7n,
  type: 'OrderAccepted',
  data: {},
  metadata: { correlationId: 'corr-1', causationId: 'cause-1' },
  created: new Date('2026-03-10T08:00:00Z'),
  position: { commit: 1234n, prepare: 1234n },
};
const compact = (source: object): Record<string, string> => ({ [RELAY_SOURCE_HEADER]: JSON.stringify(source) });

describe('relay headers', () => {
  it('writes one header and reads every field back from it', () => {
    const headers = relayHeaders(event);
    expect(Object.keys(headers)).toEqual([RELAY_SOURCE_HEADER]);
    expect(relaySourceOf(headers)).toEqual({
      eventId: event.id,
      stream: 'order-42',
      revision: '7',
      position: '1234/1234',
      type: 'OrderAccepted',
      correlationId: 'corr-1',
      causationId: 'cause-1',
    });
  });

  it('leaves out correlation and causation ids the event does not have', () => {
    const source = relaySourceOf(relayHeaders({ ...event, metadata: {} }));
    expect(source).not.toHaveProperty('correlationId');
    expect(source).not.toHaveProperty('causationId');
  });

  it('keeps a stream name that needs escaping intact', () => {
    const stream = 'thing-a "quoted"/b\\c,d';
    expect(relaySourceOf(relayHeaders({ ...event, streamId: stream }))?.stream).toBe(stream);
  });

  it('reads the one-header-per-field layout of messages relayed before the compact header', () => {
    expect(
      relaySourceOf({
        'cx-event-id': event.id,
        'cx-event-type': 'OrderAccepted',
        'cx-stream': 'order-42',
        'cx-revision': '7',
        'cx-position': '1234/1234',
        'cx-correlation-id': 'corr-1',
      }),
    ).toEqual({
      eventId: event.id,
      stream: 'order-42',
      revision: '7',
      position: '1234/1234',
      type: 'OrderAccepted',
      correlationId: 'corr-1',
    });
  });

  const valid = { eventId: event.id, stream: 's', revision: '1', position: '1/1', type: 'T' };
  it.each<[string, Record<string, string>]>([
    ['no headers', {}],
    ['only an event id', { 'cx-event-id': event.id }],
    ['a legacy layout without an event id', { 'cx-stream': 's', 'cx-revision': '1' }],
    ['a source that is not JSON', { [RELAY_SOURCE_HEADER]: 's@1' }],
    ['a source that is not an object', { [RELAY_SOURCE_HEADER]: '"s"' }],
    ['a source without an event id', compact({ ...valid, eventId: '' })],
    ['a source without a revision', compact({ ...valid, revision: undefined })],
    ['a source with a numeric revision', compact({ ...valid, revision: 1 })],
  ])('finds no source in a message with %s', (_, headers) => {
    expect(relaySourceOf(headers)).toBeUndefined();
  });
});
