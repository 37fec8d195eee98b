import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { canRead, type Principal } from '@cx/auth';
import { EVENT_STORE, type EventStore, type Position } from '@cx/event-store';
import { CLOCK, type Clock, DomainError, newId, type Page, paginate, parsePageRequest } from '@cx/shared-kernel';
import { amendAccount, openAccount } from '../application/account.handlers';
import { bootstrapAdminKey, issueApiKey, revokeApiKey } from '../application/api-key.handlers';
import { IdentityProjection } from '../application/identity.projection';
import type { CommandMetadata, IdentityDeps } from '../application/ports';
import { type AccountViewData, type ApiKeyViewData, toAccountView, toApiKeyView } from '../application/views';
import type { AmendAccountDto, IssueKeyDto, OpenAccountDto } from './identity.dto';
import { PageQueryDto } from '@cx/platform';

const accountNotFound = (accountId: string): DomainError =>
  DomainError.notFound('IDENTITY.ACCOUNT_NOT_FOUND', `account ${accountId} not found`);

/**
 * Identity for HTTP hosts: commands go through the same handlers as the CLI; queries read the projection.
 * Every write waits until the projection has applied it, so the next request (a GET, or a revoked key's next
 * call) already sees it.
 */
@Injectable()
export class IdentityService implements OnModuleInit, OnModuleDestroy {
  private readonly deps: IdentityDeps;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly projection: IdentityProjection,
  ) {
    this.deps = { store, clock };
  }

  /** Resolves once the projection holds every account and key that existed at start. */
  ready(): Promise<void> {
    return this.projection.ready();
  }

  // Nest awaits this before the app listens, so no request is answered from a half-built projection.
  async onModuleInit(): Promise<void> {
    await this.ready();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projection.stop();
  }

  /**
   * On the very first start of an exchange (no key at all), issues an admin key and returns it so the host
   * can print it once; otherwise null. Safe when several processes start together: only one issues a key.
   */
  async ensureAdminKey(): Promise<string | null> {
    await this.ready();
    if (this.projection.model.keyCount > 0) return null;
    const correlationId = newId();
    const issued = await bootstrapAdminKey(this.deps, {
      correlationId,
      causationId: correlationId,
      actor: { service: 'identity-bootstrap' },
    });
    if (issued === null) return null;
    await this.seen(issued.position);
    return issued.key;
  }

  private async seen(position: Position | null): Promise<void> {
    if (position !== null) await this.projection.caughtUpTo(position);
  }

  me(principal: Principal): { keyId: string; role: string; accounts: string[]; expiresAt: string | null } {
    const key = this.projection.model.key(principal.keyId);
    return {
      keyId: principal.keyId,
      role: principal.role,
      accounts: [...principal.accounts],
      expiresAt: key?.expiresAt ?? null,
    };
  }

  listAccounts(principal: Principal, query: PageQueryDto): Page<AccountViewData> {
    const req = parsePageRequest(query);
    const visible = this.projection.model.accounts().filter((a) => canRead(principal, a.accountId));
    const page = paginate(visible, (a) => a.accountId, req);
    return { items: page.items.map(toAccountView), nextCursor: page.nextCursor };
  }

  getAccount(principal: Principal, accountId: string): AccountViewData {
    // Another tenant's account answers exactly like a missing one.
    const account = canRead(principal, accountId) ? this.projection.model.account(accountId) : undefined;
    if (account === undefined) throw accountNotFound(accountId);
    return toAccountView(account);
  }

  async openAccount(body: OpenAccountDto, meta: CommandMetadata): Promise<AccountViewData> {
    const { accountId, ...rest } = body;
    const result = await openAccount(this.deps, { ...rest, accountId: accountId ?? newId('acc') }, meta);
    await this.seen(result.position);
    return toAccountView(result.account);
  }

  async amendAccount(accountId: string, body: AmendAccountDto, meta: CommandMetadata): Promise<AccountViewData> {
    const result = await amendAccount(this.deps, { ...body, accountId }, meta);
    await this.seen(result.position);
    return toAccountView(result.account);
  }

  listKeys(query: PageQueryDto): Page<ApiKeyViewData> {
    const req = parsePageRequest(query);
    const now = this.clock.now();
    const page = paginate(this.projection.model.keys(), (k) => k.keyId, req);
    return { items: page.items.map((k) => toApiKeyView(k, now)), nextCursor: page.nextCursor };
  }

  async issueKey(body: IssueKeyDto, meta: CommandMetadata): Promise<ApiKeyViewData & { key: string }> {
    const issued = await issueApiKey(this.deps, body, meta);
    await this.seen(issued.position);
    return { ...toApiKeyView(issued.apiKey, this.clock.now()), key: issued.key };
  }

  async revokeKey(keyId: string, reason: string | undefined, meta: CommandMetadata): Promise<ApiKeyViewData> {
    const revoked = await revokeApiKey(this.deps, { keyId, reason }, meta);
    await this.seen(revoked.position);
    return toApiKeyView(revoked.apiKey, this.clock.now());
  }
}
