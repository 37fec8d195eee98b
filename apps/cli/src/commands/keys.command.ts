import { Argument, type Command, Option } from 'commander';
import {
  type ApiKeyViewData,
  IDENTITY_STREAM_PREFIXES,
  IdentityReadModel,
  issueApiKey,
  keyRoles,
  revokeApiKey,
  toApiKeyView,
} from '@cx/identity';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { toSigningKey } from '@cx/audit';
import type { EventStore } from '@cx/event-store';
import { type CliContext, cliMetadata, collect, globalOptions, table, withStore } from '../cli-context';

// `cx keys create|list|revoke`: the same handlers as POST /v1/keys and POST /v1/keys/{id}/revoke, acting on
// the store directly. This is also how an operator recovers when no admin key works any more.

/** Folds every identity event into a read model: the CLI is short-lived, so it builds the projection once. */
export const loadIdentity = async (store: EventStore): Promise<IdentityReadModel> => {
  const model = new IdentityReadModel();
  for await (const e of store.readAll({ filter: { streamNamePrefixes: IDENTITY_STREAM_PREFIXES } })) model.apply(e);
  return model;
};

const describeKey = (k: ApiKeyViewData): string =>
  `${k.keyId}  role ${k.role}${k.accounts.length > 0 ? `, accounts ${k.accounts.join(', ')}` : ''}, ${k.expiresAt ? `expires ${k.expiresAt}` : 'never expires'}${k.label ? `, label "${k.label}"` : ''}`;

/**
 * Where the exchange keeps its audit signing key, by the same rule as its configuration: $CX_AUDIT_KEY, else beside
 * an embedded store, else ./data.
 */
export const auditKeyPath = (store: string, env: NodeJS.ProcessEnv = process.env): string =>
  env.CX_AUDIT_KEY
    ? resolve(env.CX_AUDIT_KEY)
    : join(
        store.startsWith('sqlite:') ? dirname(resolve(store.slice('sqlite:'.length))) : resolve('data'),
        'audit-signing-key.pem',
      );

export interface AuditPublicKeyView {
  keyId: string;
  algorithm: 'Ed25519';
  publicKeyPem: string;
  path: string;
}

/** The public half of the checkpoint signing key (as GET /v1/audit/public-key shows it); null when there is none. */
const readAuditPublicKey = (path: string): AuditPublicKeyView | null => {
  if (!existsSync(path)) return null;
  try {
    const key = toSigningKey(createPrivateKey(readFileSync(path)));
    return { keyId: key.keyId, algorithm: 'Ed25519', publicKeyPem: key.publicKeyPem, path };
  } catch {
    return null;
  }
};

export const registerKeysCommands = (program: Command, ctx: CliContext): void => {
  const keys = program.command('keys').description('issue, list and revoke API keys');

  keys
    .command('create')
    .description('issue an API key; the key is printed once and cannot be shown again')
    .addOption(new Option('--role <role>', 'the key’s one role').choices(keyRoles).makeOptionMandatory())
    .option(
      '--account <id>',
      'an account the key acts for (repeat for several; required for trader, integrator, finance)',
      collect,
      [],
    )
    .option('--expires <instant>', 'when the key stops working, ISO 8601 with offset (default: never)')
    .option('--label <text>', 'a note on who or what uses the key', '')
    .action(async (opts: { role: string; account: string[]; expires?: string; label: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const issued = await withStore(ctx, g.store, (store) =>
        issueApiKey(
          { store, clock: ctx.clock },
          { role: opts.role, accounts: opts.account, expiresAt: opts.expires ?? null, label: opts.label },
          cliMetadata(),
        ),
      );
      const view = { ...toApiKeyView(issued.apiKey, ctx.clock.now()), key: issued.key };
      if (g.json) ctx.io.out(JSON.stringify(view));
      else
        ctx.io.out(`Key issued: ${describeKey(view)}\nAPI key: ${issued.key}\n(store it now: it is shown only once)`);
    });

  keys
    .command('list')
    .description('list API keys (never the keys themselves) and the public key that verifies audit checkpoints')
    .option('--audit-key <path>', 'the audit signing key (default: $CX_AUDIT_KEY, or beside the store)')
    .action(async (opts: { auditKey?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const model = await withStore(ctx, g.store, loadIdentity);
      const now = ctx.clock.now();
      const views = model.keys().map((k) => toApiKeyView(k, now));
      const path = opts.auditKey !== undefined ? resolve(opts.auditKey) : auditKeyPath(g.store);
      const auditPublicKey = readAuditPublicKey(path);
      if (g.json) {
        ctx.io.out(JSON.stringify({ items: views, auditPublicKey }));
        return;
      }
      const audit = auditPublicKey
        ? `\naudit checkpoint key ${auditPublicKey.keyId} (Ed25519; for cx audit verify --public-key):\n${auditPublicKey.publicKeyPem.trimEnd()}`
        : `\naudit checkpoint key: none at ${path}`;
      if (views.length === 0) {
        ctx.io.out(`no keys${audit}`);
        return;
      }
      ctx.io.out(
        table([
          ['KEY ID', 'ROLE', 'STATUS', 'ACCOUNTS', 'EXPIRES', 'LABEL'],
          ...views.map((k) => [
            k.keyId,
            k.role,
            k.status,
            k.accounts.join(',') || '-',
            k.expiresAt ?? 'never',
            k.label || '-',
          ]),
        ]) + audit,
      );
    });

  keys
    .command('revoke')
    .description('revoke an API key; it stops working everywhere within the store’s polling interval')
    .addArgument(new Argument('<keyId>', 'the key id (the part between "cx_" and the secret)'))
    .option('--reason <text>', 'why, kept in the audit trail', '')
    .action(async (keyId: string, opts: { reason: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const revoked = await withStore(ctx, g.store, (store) =>
        revokeApiKey({ store, clock: ctx.clock }, { keyId, reason: opts.reason }, cliMetadata()),
      );
      const view = toApiKeyView(revoked.apiKey, ctx.clock.now());
      if (g.json) ctx.io.out(JSON.stringify(view));
      else ctx.io.out(`Key revoked: ${view.keyId} at ${view.revokedAt ?? ''}`);
    });
};
