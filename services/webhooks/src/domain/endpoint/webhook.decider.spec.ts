// Proves the registration checks: URL form (https unless http is allowed, no credentials or fragment), the
// destination check on the literal host or its resolved addresses, and the event types, each with its code.
import { DomainError } from '@cx/shared-kernel';
import { assertDestinationAllowed, parseEventTypes, parseWebhookUrl } from './webhook.decider';

const err = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { code: e.code, fields: e.details.map((d) => d.field) };
  }
};
const strict = { allowPrivate: false, allowHttp: false };

describe('webhook registration checks', () => {
  it.each([
    ['not a URL', 'hooks'],
    ['plain http', 'http://hooks.example.com/x'],
    ['ftp', 'ftp://hooks.example.com/x'],
    ['credentials', 'https://u:p@hooks.example.com/x'],
    ['a fragment', 'https://hooks.example.com/x#y'],
    ['too long', `https://hooks.example.com/${'x'.repeat(2100)}`],
  ])('refuses a URL with %s', (_what, url) => {
    expect(err(() => parseWebhookUrl(url, strict))).toEqual({ code: 'WEBHOOKS.INVALID_URL', fields: ['url'] });
  });

  it('accepts https, and http only when allowed', () => {
    expect(parseWebhookUrl('https://hooks.example.com/cx?a=1', strict).toString()).toBe(
      'https://hooks.example.com/cx?a=1',
    );
    expect(parseWebhookUrl('http://127.0.0.1:9/x', { allowPrivate: true, allowHttp: true }).port).toBe('9');
  });

  it.each([
    ['https://127.0.0.1/x', []],
    ['https://[::1]/x', []],
    ['https://localhost/x', []],
    ['https://metadata.internal/x', ['169.254.169.254']],
    ['https://mixed.example/x', ['8.8.8.8', '10.0.0.1']],
  ])('refuses %s (resolving to %j) unless private addresses are allowed', (url, resolved) => {
    const u = new URL(url);
    expect(err(() => assertDestinationAllowed(u, resolved, false))).toEqual({
      code: 'WEBHOOKS.PRIVATE_ADDRESS',
      fields: ['url'],
    });
    expect(err(() => assertDestinationAllowed(u, resolved, true))).toBeNull();
  });

  it('accepts a public address', () => {
    expect(
      err(() => assertDestinationAllowed(new URL('https://hooks.example.com/'), ['93.184.216.34'], false)),
    ).toBeNull();
  });

  it('checks event types: some, each known, repeats folded', () => {
    expect(err(() => parseEventTypes([]))).toEqual({ code: 'WEBHOOKS.NO_EVENT_TYPES', fields: ['eventTypes'] });
    expect(err(() => parseEventTypes(['trade.executed', 'trade.exploded', 7]))).toEqual({
      code: 'WEBHOOKS.UNKNOWN_EVENT_TYPE',
      fields: ['eventTypes[1]', 'eventTypes[2]'],
    });
    expect(parseEventTypes(['trade.executed', 'alert.raised', 'trade.executed'])).toEqual([
      'trade.executed',
      'alert.raised',
    ]);
  });
});
