import type { HttpCallArgs, HttpReply } from '@cx/testing';

// The tenants the embedded exchange's webhook tests share, opened over real HTTP with the admin key: a provider
// (prov-1) that sells, a buyer (buy-1) that buys, and a second buyer (other-1) whose endpoint must never hear the
// first's events; a trader key for each, and the deposits a test's buying needs.

export interface Tenants {
  /** The trader key of prov-1. */
  seller: string;
  /** The trader key of buy-1. */
  buyer: string;
  /** The trader key of other-1. */
  other: string;
  /** Issues another key, as the admin. */
  key: (role: string, accounts: string[]) => Promise<string>;
}

export interface OpenTenants {
  /** Each `[transferId, account]` is deposited 100000.00 CNY, in order. */
  deposits: readonly (readonly [transferId: string, account: string])[];
}

export const openTenants = async (
  call: (...args: HttpCallArgs) => Promise<HttpReply>,
  admin: string,
  { deposits }: OpenTenants,
): Promise<Tenants> => {
  for (const [accountId, kind] of [
    ['prov-1', 'provider'],
    ['buy-1', 'buyer'],
    ['other-1', 'buyer'],
  ]) {
    expect((await call('POST', '/v1/accounts', admin, { accountId, legalName: accountId, kind })).status).toBe(201);
  }
  const key = async (role: string, accounts: string[]) =>
    (await call('POST', '/v1/keys', admin, { role, accounts })).body.key as string;
  const seller = await key('trader', ['prov-1']);
  const buyer = await key('trader', ['buy-1']);
  const other = await key('trader', ['other-1']);
  for (const [transferId, account] of deposits) {
    const dep = { transferId, account, amount: '100000.00', currency: 'CNY' };
    expect((await call('POST', '/v1/ledger/deposits', admin, dep)).status).toBe(201);
  }
  return { seller, buyer, other, key };
};
