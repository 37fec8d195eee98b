// Which service owns which public path prefix (DESIGN.md, "Public API"). The gateway serves GATEWAY_PREFIXES
// itself and forwards these; each service answers under its own prefixes only.
export const SERVICE_PREFIXES = {
  'pricing-guidance': [
    '/v1/guidance',
    '/v1/index',
    '/v1/alerts',
    '/v1/market-status',
    '/v1/resource-classes',
    '/v1/regions',
  ],
  matching: ['/v1/orders', '/v1/market', '/v1/instruments', '/v1/allocations'],
  metering: ['/v1/usage', '/v1/meters'],
  billing: ['/v1/ledger', '/v1/periods', '/v1/statements', '/v1/disputes', '/v1/offers'],
} as const;

export type ServiceName = keyof typeof SERVICE_PREFIXES;

/**
 * Served by the gateway itself: identity, audit, and the webhooks module it hosts. `/v1/alerts/mine` lies under
 * pricing-guidance's `/v1/alerts`, but the proxy registers `/v1/alerts` and `/v1/alerts/*`, and the router prefers
 * the gateway's own static route `/v1/alerts/mine` over that wildcard.
 */
export const GATEWAY_PREFIXES = [
  '/v1/me',
  '/v1/accounts',
  '/v1/keys',
  '/v1/audit',
  '/v1/webhooks',
  '/v1/alert-rules',
  '/v1/alerts/mine',
] as const;
