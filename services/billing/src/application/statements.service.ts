import { Inject, Injectable } from '@nestjs/common';
import { type CommandMetadata, EVENT_STORE, type EventStore, type NewEvent, NO_STREAM } from '@cx/event-store';
import { CLOCK, type Clock, type Currency, newId } from '@cx/shared-kernel';
import type { Period } from '../domain/settlement/periods';
import {
  buildLines,
  cashIn,
  readingDifferencesOf,
  shortfallsOf,
  type CashMovement,
  ContentHasher,
  type ReadingDifference,
  type Shortfall,
  type NoteForStatement,
  type StatementLine,
  summarise,
  withNoteAdjustments,
} from '../domain/statement/statement';
import {
  type StatementIssued,
  type StatementLinesRecorded,
  statementStream,
} from '../domain/statement/statement.events';
import { type LedgerMovements, postedCash } from './ledger-movements';
import { BillingFactsService } from './billing-facts.service';

/** Lines per `StatementLinesRecorded` event: big enough to be cheap to read, small enough to stream. */
export const STATEMENT_CHUNK_LINES = 2_000;

export interface IssueInput {
  account: string;
  currency: Currency;
  period: Period;
  movements: LedgerMovements;
  ledgerRevision: string | null;
  reason: StatementIssued['data']['reason'];
  supersedes: string | null;
  /** A reissue after corrections: every note issued against the statement, shown as its adjustments. */
  notes?: readonly NoteForStatement[];
}

/**
 * Builds, issues and reads statements. Issuing is called under the period close's lock (or a note's), so two
 * issues of one statement never interleave; reading streams the lines from the store chunk by chunk.
 */
@Injectable()
export class StatementsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly facts: BillingFactsService,
  ) {}

  /** The account's posted cash movements, split into those before the period and those booked in it. */
  cashIn(
    movements: LedgerMovements,
    account: string,
    period: Period,
  ): { openingMinor: bigint; inPeriod: CashMovement[] } {
    return cashIn(postedCash(movements.of(account)), period);
  }

  /** Whether the account has anything to state for the period: a balance brought forward or a movement in it. */
  hasContent(movements: LedgerMovements, account: string, period: Period): boolean {
    const { openingMinor, inPeriod } = this.cashIn(movements, account, period);
    return openingMinor !== 0n || inPeriod.length > 0 || this.shortfalls(account, period).length > 0;
  }

  private shortfalls(account: string, period: Period): Shortfall[] {
    return shortfallsOf(this.facts.facts.settlements.values(), account, period);
  }

  private readingDifferences(account: string, period: Period): ReadingDifference[] {
    return readingDifferencesOf(this.facts.facts.settlements.values(), account, period);
  }

  /**
   * Issues the account's statement for the period from the ledger's movements booked in it: lines in chunks, then
   * the header that makes the issue exist. Returns the header.
   */
  async issue(input: IssueInput, meta: CommandMetadata): Promise<StatementIssued['data']> {
    const { account, currency, period } = input;
    const { openingMinor, inPeriod } = this.cashIn(input.movements, account, period);
    const lines = buildLines(account, currency, inPeriod, (id) => this.facts.facts.settlementRecord(id));
    const summary = withNoteAdjustments(
      summarise({ account, period: period.id, currency, openingMinor }, lines, {
        shortfalls: this.shortfalls(account, period),
        readingDifferences: this.readingDifferences(account, period),
      }),
      input.notes ?? [],
    );
    return this.write(input, summary, lines, meta);
  }

  /** Writes an issue: line chunks at exact revisions, then the header. Also the path the benchmark drives. */
  async write(
    input: Pick<IssueInput, 'account' | 'period' | 'ledgerRevision' | 'reason' | 'supersedes'>,
    summary: ReturnType<typeof summarise>,
    lines: Iterable<StatementLine>,
    meta: CommandMetadata,
  ): Promise<StatementIssued['data']> {
    const stream = statementStream(input.account, input.period.id);
    await this.facts.catchUpWith(stream).catch(() => undefined);
    const known = this.facts.facts.statementRevisions.get(stream);
    let revision: bigint | typeof NO_STREAM = known === undefined ? NO_STREAM : known;
    const issueId = newId('iss');
    const hasher = new ContentHasher(summary);
    const md = { correlationId: meta.correlationId, causationId: meta.causationId, actor: meta.actor };
    let chunk: StatementLine[] = [];
    let offset = 0;
    let first: bigint | null = null;
    const flush = async () => {
      const e: NewEvent = {
        type: 'StatementLinesRecorded',
        data: { issueId, offset, lines: chunk } satisfies StatementLinesRecorded['data'],
        metadata: md,
      };
      const r = await this.store.appendToStream(stream, [e], { expectedRevision: revision });
      revision = r.nextExpectedRevision;
      first ??= r.nextExpectedRevision;
      offset += chunk.length;
      chunk = [];
    };
    for (const l of lines) {
      hasher.line(l);
      chunk.push(l);
      if (chunk.length >= STATEMENT_CHUNK_LINES) await flush();
    }
    if (chunk.length > 0) await flush();
    const versions = this.facts.facts.statements.get(`${input.account}|${input.period.id}`) ?? [];
    const version = versions.length + 1;
    const header: StatementIssued['data'] = {
      statementId: `stmt-${input.account}-${input.period.id}-v${version}`,
      issueId,
      version,
      summary,
      contentHash: hasher.digest(),
      lineChunks: first === null ? null : { fromRevision: String(first), toRevision: String(revision as bigint) },
      builtFrom: {
        ledgerRevision: input.ledgerRevision,
        position:
          this.facts.facts.position === null
            ? null
            : { commit: String(this.facts.facts.position.commit), prepare: String(this.facts.facts.position.prepare) },
      },
      supersedes: input.supersedes,
      reason: input.reason,
      issuedAt: this.clock.now().toISOString(),
    };
    await this.facts.decideAndAppend(
      stream,
      () => revision,
      () => ({ result: null, events: [{ type: 'StatementIssued', data: header, metadata: md }] }),
    );
    return header;
  }

  /** The statement's versions, oldest first (empty when none was issued). */
  versions(account: string, period: string): readonly StatementIssued['data'][] {
    return this.facts.facts.statements.get(`${account}|${period}`) ?? [];
  }

  /** Every statement issued for the account, latest version of each, by period (days before the month they end). */
  list(account: string): StatementIssued['data'][] {
    const out: StatementIssued['data'][] = [];
    for (const [key, versions] of this.facts.facts.statements) {
      if (key.slice(0, key.lastIndexOf('|')) !== account) continue;
      const latest = versions[versions.length - 1];
      if (latest !== undefined) out.push(latest);
    }
    return out.sort((a, b) => (a.summary.period < b.summary.period ? -1 : a.summary.period > b.summary.period ? 1 : 0));
  }

  /** The issue's lines, read chunk by chunk from the store: memory stays flat whatever the line count. */
  async *lines(header: StatementIssued['data']): AsyncGenerator<StatementLine> {
    for await (const chunk of this.chunks(header)) yield* chunk;
  }

  /**
   * The issue's lines as the chunks they were recorded in, in order. Renderers take whole chunks, which spares
   * them an await per line. The store is read a few chunks per query: a store page holds up to a thousand events,
   * and a thousand chunks of 2,000 lines would be a whole million-line statement in memory at once.
   */
  async *chunks(header: StatementIssued['data']): AsyncGenerator<readonly StatementLine[]> {
    if (header.lineChunks === null) return;
    const stream = statementStream(header.summary.account, header.summary.period);
    const to = BigInt(header.lineChunks.toRevision);
    let from = BigInt(header.lineChunks.fromRevision);
    while (from <= to) {
      const maxCount = Number(to - from + 1n < CHUNKS_PER_READ ? to - from + 1n : CHUNKS_PER_READ);
      let read = 0;
      for await (const e of this.store.readStream(stream, { fromRevision: from, maxCount })) {
        read++;
        from = e.revision + 1n;
        if (e.revision > to) return;
        if (e.type !== 'StatementLinesRecorded') continue;
        const d = e.data as StatementLinesRecorded['data'];
        if (d.issueId !== header.issueId) continue;
        yield d.lines;
      }
      if (read === 0) return;
    }
  }
}

/** Line chunks read from the store per query when streaming a statement (about 8,000 lines). */
const CHUNKS_PER_READ = 4n;
