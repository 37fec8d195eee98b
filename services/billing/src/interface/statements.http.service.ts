import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { canRead, type Principal } from '@cx/auth';
import type { CommandMetadata } from '@cx/event-store';
import { DomainError, encodeCursor, type Page, paginate, type PageRequest } from '@cx/shared-kernel';
import { type CloseResult, PeriodCloseService } from '../application/period-close.service';
import { StatementsService } from '../application/statements.service';
import { parsePeriod } from '../domain/settlement/periods';
import type { StatementLine } from '../domain/statement/statement';
import type { StatementIssued } from '../domain/statement/statement.events';
import { formatAmount } from '../domain/ledger/ledger.amounts';
import { BillingLedgerService } from './ledger.http.service';

export type StatementHeader = Omit<StatementIssued['data'], 'summary' | 'issueId'> & StatementIssued['data']['summary'];

/** The CSV's columns, in order: one row per line, then the opening and closing balances as rows of their own. */
export const STATEMENT_CSV_COLUMNS = [
  'statementId',
  'account',
  'period',
  'currency',
  'lineNo',
  'day',
  'kind',
  'ref',
  'role',
  'instrument',
  'quantity',
  'unit',
  'unitPrice',
  'amount',
  'fee',
  'guidanceVersion',
] as const;

const notFound = (account: string, period: string) =>
  DomainError.notFound('BILLING.STATEMENT_NOT_FOUND', `no statement for ${account} in ${period}`);

export interface TransferLine {
  transferId: string;
  kind: string;
  amount: string;
  currency: string;
  status: string;
  phase: string;
  counterparty: string;
  code: string | null;
  ref: string | null;
  pendingId: string | null;
  at: string;
  day: string;
}

/** Periods and statements over HTTP: closing (admin) and reading them as JSON or CSV, streamed. */
@Injectable()
export class StatementsHttpService {
  constructor(
    private readonly closes: PeriodCloseService,
    private readonly statements: StatementsService,
    private readonly ledgers: BillingLedgerService,
  ) {}

  close(period: string, meta: CommandMetadata): Promise<CloseResult> {
    return this.closes.close(period, meta);
  }

  list(account: string, principal: Principal, req: PageRequest): Page<StatementHeader> {
    if (!canRead(principal, account)) return { items: [], nextCursor: null };
    const page = paginate(this.statements.list(account), (h) => h.summary.period, req);
    return { items: page.items.map(headerOf), nextCursor: page.nextCursor };
  }

  /** The statement's header (latest version unless `version` is given); another tenant's answers 404. */
  header(account: string, period: string, principal: Principal, version?: string): StatementIssued['data'] {
    if (parsePeriod(period) === null) {
      throw DomainError.invalid(
        'BILLING.PERIOD_INVALID',
        `"${period}" is not a UTC day YYYY-MM-DD or month YYYY-MM`,
        'period',
      );
    }
    if (!canRead(principal, account)) throw notFound(account, period);
    const versions = this.statements.versions(account, period);
    if (version !== undefined && !/^[1-9]\d{0,5}$/.test(version)) {
      throw DomainError.invalid('BILLING.VERSION_INVALID', 'version must be a positive whole number', 'version');
    }
    const latest = versions[versions.length - 1];
    if (latest === undefined) throw notFound(account, period);
    if (version === undefined) return latest;
    const h = versions[Number(version) - 1];
    if (h === undefined) {
      throw DomainError.notFound(
        'BILLING.STATEMENT_VERSION_NOT_FOUND',
        `the statement for ${account} in ${period} has ${versions.length} version(s), not ${version}`,
      );
    }
    return h;
  }

  /**
   * The statement as one JSON document, streamed: the header's fields, then `lines` read chunk by chunk from the
   * store, so memory stays flat however many lines it has.
   */
  json(h: StatementIssued['data']): Readable {
    const head = JSON.stringify({ ...headerOf(h), lines: LINES_MARK });
    const at = head.indexOf(JSON.stringify(LINES_MARK));
    const before = head.slice(0, at);
    const after = head.slice(at + JSON.stringify(LINES_MARK).length);
    const chunks = this.statements.chunks(h);
    return Readable.from(
      (async function* () {
        yield `${before}[`;
        let first = true;
        for await (const chunk of chunks) {
          if (chunk.length === 0) continue;
          // An array's JSON is its elements' JSON joined by commas inside brackets: the same bytes as one
          // JSON.stringify per line, in one native call per chunk of lines.
          const text = JSON.stringify(chunk);
          yield (first ? '' : ',') + text.slice(1, -1);
          first = false;
        }
        yield `]${after}`;
      })(),
    );
  }

  /** The statement as CSV (RFC 4180 by csv-stringify): a header row, one row per line, and balance rows. */
  csv(h: StatementIssued['data']): Readable {
    const s = h.summary;
    const base = { statementId: h.statementId, account: s.account, period: s.period, currency: s.currency };
    const chunks = this.statements.chunks(h);
    const options = { columns: [...STATEMENT_CSV_COLUMNS], cast: { number: (v: number) => String(v) } };
    // Rows are stringified a chunk at a time by csv-stringify's synchronous API, with the header row on the first
    // call only: the same bytes as one streaming stringifier, without a stream hop per row.
    return Readable.from(
      (async function* () {
        yield stringifySync([{ ...base, lineNo: 0, kind: 'opening_balance', amount: s.openingBalance }], {
          ...options,
          header: true,
        });
        let n = 0;
        for await (const chunk of chunks) {
          if (chunk.length === 0) continue;
          const rows = new Array<Record<string, unknown>>(chunk.length);
          for (let i = 0; i < chunk.length; i++) rows[i] = csvRow(base, ++n, chunk[i] as StatementLine);
          yield stringifySync(rows, { ...options, header: false });
        }
        const tail: Array<Record<string, unknown>> = [
          { ...base, lineNo: n + 1, kind: 'closing_balance', amount: s.closingBalance },
        ];
        // A reissued version: its notes as adjustment rows, then the balance with them.
        if (s.adjustments !== undefined && s.adjustedTotals !== undefined) {
          for (const a of s.adjustments) {
            tail.push({
              ...base,
              lineNo: n + 1 + tail.length,
              day: a.bookedOn,
              kind: a.kind,
              ref: a.noteId,
              amount: a.amount,
            });
          }
          tail.push({
            ...base,
            lineNo: n + 1 + tail.length,
            kind: 'adjusted_closing_balance',
            amount: s.adjustedTotals.closingBalance,
          });
        }
        yield stringifySync(tail, { ...options, header: false });
      })(),
    );
  }

  /** The account's ledger movements (all kinds), oldest first, cursor-paginated. */
  async transfers(account: string, principal: Principal, req: PageRequest): Promise<Page<TransferLine>> {
    const currency = this.ledgers.accountCurrency(account);
    if (!canRead(principal, account) || currency === null) {
      throw DomainError.notFound('BILLING.ACCOUNT_NOT_FOUND', `account ${account} not found`);
    }
    const { movements } = await this.ledgers.movements(currency);
    const all = movements.of(account);
    const start = req.after === null ? 0 : Number(req.after) + 1;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw DomainError.invalid('PAGINATION.INVALID_CURSOR', 'cursor is not one this API issued', 'cursor');
    }
    const items: TransferLine[] = [];
    for (let i = start; i < all.length && items.length < req.limit; i++) {
      const m = all[i];
      if (m === undefined) break;
      items.push({
        transferId: m.transferId,
        kind: m.kind,
        amount: formatAmount(m.amountMinor, currency),
        currency,
        status: m.status,
        phase: m.phase,
        counterparty: m.counterparty,
        code: m.code,
        ref: m.ref,
        pendingId: m.pendingId,
        at: m.at,
        day: m.day,
      });
    }
    const last = start + items.length - 1;
    return { items, nextCursor: last + 1 < all.length && items.length > 0 ? encodeCursor(String(last)) : null };
  }
}

/**
 * A line's CSV row, as `{ ...base, lineNo, ...line }` would be for the columns csv-stringify reads (the line's own
 * fields win, as with the spread), but built column by column into one shape: the spreads cost more than
 * stringifying the row did.
 */
const csvRow = (base: Record<string, unknown>, lineNo: number, l: StatementLine): Record<string, unknown> => {
  const line = l as unknown as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  for (const c of STATEMENT_CSV_COLUMNS) {
    row[c] = Object.prototype.hasOwnProperty.call(line, c) ? line[c] : c === 'lineNo' ? lineNo : base[c];
  }
  return row;
};

const LINES_MARK = '\u0000lines\u0000';

export const headerOf = (h: StatementIssued['data']): StatementHeader => {
  const { summary, issueId: _issueId, ...rest } = h;
  return { ...rest, ...summary };
};

export type { StatementLine };
