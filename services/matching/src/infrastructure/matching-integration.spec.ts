// Proves the relay route publishes each cancellation with the contract's reason for it: a self-trade prevention
// cancel as CANCEL_REASON_SELF_TRADE (not UNSPECIFIED), and a band cancel as OUTSIDE_BAND with its guidance version.
import { CancelReason, decodeEvent } from '@cx/contracts';
import type { RecordedEvent } from '@cx/event-store';
import type { RelayMessage } from '@cx/messaging';
import { matchingConfig } from '../config';
import { ORDERS_TOPIC, matchingRelayRoutes } from './matching-integration';

const INSTR = 'nvidia-h100-sxm-80g.cn-east-1.2026-03-11';

const recorded = (data: Record<string, unknown>): RecordedEvent => ({
  id: '00000000-0000-7000-8000-000000000001',
  streamId: `book-${INSTR}`,
  revision: 7n,
  type: 'OrderCancelled',
  data,
  metadata: { correlationId: 'c-1', causationId: 'c-1', actor: { service: 'test' } },
  created: new Date('2026-03-10T08:00:00Z'),
  position: { commit: 9n, prepare: 9n },
});

const cancelled = (reason: string, guidanceVersion: string | null) => {
  const [route] = matchingRelayRoutes(matchingConfig());
  const out = route!.toMessage(
    recorded({
      orderId: 'ord-1',
      account: 'acme-01',
      reason,
      cancelledLots: 3,
      filledLots: 1,
      guidanceVersion,
      cancelledAt: '2026-03-10T08:00:00.000Z',
      instrument: INSTR,
      clientOrderId: 'c-ord-1',
      side: 'sell',
    }),
  ) as RelayMessage;
  expect(out.topic).toBe(ORDERS_TOPIC);
  const event = decodeEvent(ORDERS_TOPIC, out.message.value as Uint8Array).event;
  if (event.case !== 'orderCancelled') throw new Error(`expected orderCancelled, got ${event.case}`);
  return event.value;
};

describe('matching relay route: order cancellations', () => {
  it('publishes a self-trade prevention cancel as SELF_TRADE', () => {
    expect(cancelled('SELF_TRADE', null)).toMatchObject({
      orderId: 'ord-1',
      reason: CancelReason.SELF_TRADE,
      cancelledQuantity: '3',
      filledQuantity: '1',
    });
  });

  it('publishes a floor-raise cancel as OUTSIDE_BAND with the guidance version that caused it', () => {
    expect(cancelled('FLOOR_RAISED', 'nvidia-h100-sxm-80g.v2')).toMatchObject({
      reason: CancelReason.OUTSIDE_BAND,
      guidanceVersionId: 'nvidia-h100-sxm-80g.v2',
    });
  });
});
