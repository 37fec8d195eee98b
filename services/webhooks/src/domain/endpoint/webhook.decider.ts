import { DomainError, type ErrorDetail } from '@cx/shared-kernel';
import { type AddressClass, classifyAddress, isAllowedDestination } from '../delivery/address';
import { isWebhookEventType, type WebhookEventType } from './webhook.events';

// Judging a registration. The URL is checked for form here and for destination with the addresses its host
// resolved to (the handler resolves them and puts them on the command: the decider does no I/O).

export const MAX_URL_LENGTH = 2_048;
export const MAX_ENDPOINTS_PER_TENANT = 20;

export interface UrlRules {
  allowPrivate: boolean;
  /** Plain http is refused unless allowed (tests and development only). */
  allowHttp: boolean;
}

/** Parses and checks the form of a webhook URL; the field at fault is `url`. */
export const parseWebhookUrl = (raw: string, rules: UrlRules): URL => {
  const invalid = (message: string) => DomainError.invalid('WEBHOOKS.INVALID_URL', message, 'url');
  if (raw.length > MAX_URL_LENGTH) throw invalid(`url must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(rules.allowHttp && url.protocol === 'http:')) {
    throw invalid(rules.allowHttp ? 'url must be http or https' : 'url must be https');
  }
  if (url.username !== '' || url.password !== '') throw invalid('url must not carry credentials');
  if (url.hash !== '') throw invalid('url must not have a fragment');
  if (url.hostname === '') throw invalid('url has no host');
  return url;
};

/** The host as it will be dialled: bracketless IPv6, lower case. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/** Refuses a destination that is (or resolves to) a private, loopback, link-local or reserved address. */
export const assertDestinationAllowed = (url: URL, resolved: readonly string[], allowPrivate: boolean): void => {
  const host = hostOf(url);
  const literal = classifyAddress(host);
  const classes: AddressClass[] =
    literal !== 'not-an-ip'
      ? [literal]
      : host === 'localhost' || host.endsWith('.localhost')
        ? ['loopback']
        : resolved.map(classifyAddress);
  const refused = classes.find((c) => !isAllowedDestination(c, allowPrivate));
  if (refused !== undefined) {
    throw DomainError.invalid(
      'WEBHOOKS.PRIVATE_ADDRESS',
      `url points at a ${refused} address; webhooks go to public addresses only`,
      'url',
    );
  }
};

/** Checks the event types: at least one, each known, no repeats. */
export const parseEventTypes = (raw: readonly unknown[]): WebhookEventType[] => {
  if (raw.length === 0) {
    throw DomainError.invalid('WEBHOOKS.NO_EVENT_TYPES', 'eventTypes needs at least one type', 'eventTypes');
  }
  const details: ErrorDetail[] = [];
  raw.forEach((t, i) => {
    if (!isWebhookEventType(t)) details.push({ field: `eventTypes[${i}]`, code: 'WEBHOOKS.UNKNOWN_EVENT_TYPE' });
  });
  if (details.length > 0) {
    throw new DomainError('WEBHOOKS.UNKNOWN_EVENT_TYPE', 'unknown event type', 'invalid', details);
  }
  return [...new Set(raw as WebhookEventType[])];
};
