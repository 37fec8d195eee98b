import {
  type CommandMetadata,
  type EventStore,
  type NewEvent,
  type Position,
  type RecordedEvent,
  StreamNotFound,
  type Subscription,
  WrongExpectedVersion,
} from '@cx/event-store';
import type { BandVersionKind } from '@cx/guidance';
import { AssertionFailed, Dec, DomainError, newId } from '@cx/shared-kernel';
import type { MatchingConfig } from '../config';
import {
  type BookCommand,
  type PlaceOrder,
  type AccountLimits,
  type ExposureElsewhere,
  decide,
  evolve,
  initialBook,
} from '../domain/order-book/order-book.decider';
import type { BookEvent, RejectCode, Side, TimeInForce } from '../domain/order-book/order-book.events';
import { legacyVersionFields } from '../domain/order-book/order-book.guidance';
import { type Book, nextExpiryMs } from '../domain/order-book/order-book.state';
import { type InstrumentInfo, instrumentId, instrumentInfo, listedDays, parseInstrumentId } from './instruments';
import { MarketReadModel, type OrderRecord } from './market.read-model';

/** Matching's own record of the catalog it heard over Kafka: `matching-catalog-<kind>-<id>`. */
export const MATCHING_CATALOG_PREFIX = 'matching-catalog-';
import {
  type AllocationCreated,
  BOOK_STREAM_PREFIX,
  type MatchingEvent,
  type OrderContext,
  allocationIdOf,
  bookStream,
  isBookEvent,
} from './matching.events';
import type { MatchingDeps } from './ports';

// The matching engine: every order book as a hot aggregate, in memory, with exactly one writer.
//
// Commands for one book go through that book's queue. The writer takes what is queued (up to
// maxCommandsPerAppend), decides each command against the in-memory book and applies its events at once, so the
// next command in the same batch sees them; then it appends the whole batch's events in ONE append at the
// revision it knows (exact expectedRevision), and only when the store has made them durable does it fold them
// into the read model, notify streams and answer the callers. Meanwhile new commands queue up for the next
// batch. Books are independent, so their appends run concurrently and the SQLite store's group commit writes
// them in one transaction: throughput grows with the number of books and with the queue depth per book.
//
// If an append fails, the in-memory book is ahead of the store: it is rebuilt from its stream, and every command
// of the failed batch is refused (the store's error, retriable), so nothing was answered that is not durable.

/** Codes that say the request itself is wrong: answered 400, and nothing is recorded (the book is unchanged). */
const INPUT_CODES = new Set<RejectCode>([
  'MATCHING.UNKNOWN_INSTRUMENT',
  'MATCHING.INVALID_ORDER',
  'MATCHING.INVALID_PRICE',
  'MATCHING.OFF_TICK',
  'MATCHING.INVALID_QUANTITY',
  'MATCHING.INVALID_EXPIRES_AT',
  'MATCHING.GTD_EXPIRED',
  'MATCHING.INVALID_POST_ONLY',
]);

const MESSAGES: Partial<Record<RejectCode, string>> = {
  'MATCHING.OFF_TICK': 'the price is not a whole number of ticks',
  'MATCHING.INVALID_PRICE': 'the price must be a positive decimal within the instrument’s range',
  'MATCHING.INVALID_QUANTITY': 'the quantity must be a positive whole number of lots',
  'MATCHING.GTD_EXPIRED': 'expiresAt is not in the future',
  'MATCHING.INVALID_EXPIRES_AT': 'expiresAt is required with GTD and allowed only with GTD',
  'MATCHING.BELOW_FLOOR': 'the price is below the floor in force',
  'MATCHING.ABOVE_CEILING': 'the price is above the ceiling in force',
  'MATCHING.GUIDANCE_STALE': 'matching has no current view of price guidance; try again shortly',
  'MATCHING.MARKET_HALTED': 'the market is halted',
  'MATCHING.TRADING_CLOSED': 'trading in this instrument has closed',
  'MATCHING.DUPLICATE_CLIENT_ORDER_ID': 'the account already used this client order id for another order',
  'MATCHING.ORDER_NOT_FOUND': 'order not found',
  'MATCHING.MAX_OPEN_QUANTITY_EXCEEDED': 'the account’s open quantity, across all its books, would exceed its limit',
  'MATCHING.MAX_OPEN_NOTIONAL_EXCEEDED': 'the account’s open notional, across all its books, would exceed its limit',
};

const refusal = (code: RejectCode, field: string | null): DomainError => {
  const details = field ? [{ field, code }] : [];
  const message = MESSAGES[code] ?? code;
  if (code === 'MATCHING.ORDER_NOT_FOUND') return DomainError.notFound(code, message);
  if (INPUT_CODES.has(code)) return new DomainError(code, message, 'invalid', details);
  return new DomainError(code, message, 'unprocessable', details);
};

export const orderNotFound = (): DomainError => refusal('MATCHING.ORDER_NOT_FOUND', null);

/** What one command decided: the events to record and, once they are durable, the caller's answer. */
interface Outcome<T> {
  events: MatchingEvent[];
  answer: () => T;
}

interface Job {
  meta: CommandMetadata;
  decide: (h: BookHandle, now: number) => Outcome<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface BookHandle {
  readonly info: InstrumentInfo;
  book: Book;
  /** The stream's last revision, as this writer knows it; 'no_stream' before the book's first event. */
  revision: bigint | 'no_stream';
  /** The last revision of the stream folded into the read model (and told to listeners). */
  modelRevision: bigint | 'no_stream';
  /** The in-memory book may be ahead of the store (a failed append whose reload failed too): reload first. */
  needsReload: boolean;
  queue: Job[];
  draining: boolean;
}

/** A band version as guidance published it, kept so books listed later (a new delivery day) get it too. */
export interface BandVersionInput {
  bandId: string;
  versionId: string;
  version: number;
  kind: BandVersionKind;
  resourceClass: string;
  region: string | null;
  floor: string;
  ceiling: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
}

export interface HaltScope {
  resourceClass?: string;
  region?: string;
  instrument?: string;
}

export interface PlaceOrderInput {
  account: string;
  instrument: string;
  clientOrderId: string;
  side: Side;
  price: string;
  quantityLots: number;
  timeInForce: TimeInForce;
  expiresAt?: string | null;
  postOnly?: boolean;
}

export type CommittedListener = (instrument: string, events: readonly MatchingEvent[]) => void;

const SYSTEM_META = (what: string): CommandMetadata => {
  const id = newId();
  return { correlationId: id, causationId: id, actor: { service: `matching-${what}` } };
};

export class MatchingEngine {
  readonly model = new MarketReadModel();
  private readonly books = new Map<string, BookHandle>();
  private sortedIds: string[] | null = null;
  private readonly resourceClasses = new Set<string>();
  private readonly regions = new Set<string>();
  private readonly bands = new Map<string, BandVersionInput>();
  /**
   * The books on which each account may have orders open (a superset: a book stays listed after the account's
   * last order there leaves, until the next look). Limits hold per account across books; see `exposureElsewhere`.
   */
  private readonly accountBooks = new Map<string, Set<BookHandle>>();
  private readonly guidanceSeen = new Map<string, number>();
  private readonly halts = new Map<string, HaltScope>();
  private readonly listeners = new Set<CommittedListener>();
  private timer: NodeJS.Timeout | null = null;
  private catalogSub: Subscription | null = null;
  private stopped = false;
  private readonly store: EventStore;
  private readonly config: MatchingConfig;

  constructor(private readonly deps: MatchingDeps) {
    this.store = deps.store;
    this.config = deps.config;
  }

  // ---- lifecycle ----

  /**
   * Rebuilds every book from its stream, lists the instruments the catalog and the clock call for, and starts
   * the scheduler and the catalog follower. `follow: false` (benchmarks) does only the rebuild.
   */
  async start(opts: { follow?: boolean } = {}): Promise<void> {
    await this.rebuild();
    if (opts.follow === false) return;
    const last = await this.readCatalog();
    await this.list();
    this.followCatalog(last);
    this.timer = setInterval(
      () => void this.tick().catch((e) => this.report('scheduled tick failed', e)),
      this.config.tickIntervalMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const sub = this.catalogSub;
    this.catalogSub = null;
    if (sub) await sub.unsubscribe();
    // Let queued commands finish: each is already promised an answer.
    for (let i = 0; i < 100 && [...this.books.values()].some((h) => h.draining || h.queue.length > 0); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private report(message: string, e: unknown): void {
    if (e instanceof AssertionFailed) {
      // A broken invariant stops the process (STYLE.md): rethrown outside any promise chain.
      setImmediate(() => {
        throw e;
      });
    }
    this.deps.onError?.(message, e);
  }

  private async rebuild(): Promise<void> {
    for await (const e of this.store.readAll({ filter: { streamNamePrefixes: [BOOK_STREAM_PREFIX] } })) {
      const id = e.streamId.slice(BOOK_STREAM_PREFIX.length);
      let h = this.books.get(id);
      if (h === undefined) {
        h = this.newHandle(id);
        this.books.set(id, h);
        this.sortedIds = null;
      }
      const event = { type: e.type, data: e.data } as MatchingEvent;
      if (isBookEvent(e.type)) evolve(h.book, event as BookEvent);
      this.model.apply(id, event);
      h.revision = e.revision;
      h.modelRevision = e.revision;
      if (e.type === 'BandScheduled') this.rememberBand(h.info, event as Extract<BookEvent, { type: 'BandScheduled' }>);
    }
    for (const h of this.books.values()) this.indexAccounts(h);
  }

  // ---- account limits across books ----

  private noteAccount(account: string, h: BookHandle): void {
    let books = this.accountBooks.get(account);
    if (books === undefined) this.accountBooks.set(account, (books = new Set()));
    books.add(h);
  }

  private indexAccounts(h: BookHandle): void {
    for (const account of h.book.accounts.keys()) this.noteAccount(account, h);
  }

  /**
   * What the account has open on every book but `h`, read from the in-memory books at the moment of the decision.
   * Books decide synchronously, one command at a time in this one thread, and each applies its events to its
   * in-memory book as it decides them, so an order decided on another book is counted here at once, before it is
   * durable: two orders racing on two books are judged one after the other, and cannot together pass a limit
   * each would pass alone. (An append that then fails reloads that book, and its orders stop counting.)
   */
  private exposureElsewhere(h: BookHandle, account: string): ExposureElsewhere | null {
    const books = this.accountBooks.get(account);
    if (books === undefined) return null;
    let openLots = 0;
    let notional: Dec | null = null;
    for (const other of books) {
      const e = other.book.accounts.get(account);
      if (e === undefined) {
        books.delete(other);
        continue;
      }
      if (other === h) continue;
      openLots += e.openLots;
      const n = new Dec(e.openTickLots).mul(other.info.spec.tickSize).mul(other.info.spec.lotSize);
      notional = notional === null ? n : notional.plus(n);
    }
    if (books.size === 0) this.accountBooks.delete(account);
    return notional === null ? null : { openLots, openNotional: notional.toFixed() };
  }

  // Guidance heard before a restart is in the books' BandScheduled events; a book listed after the restart needs
  // it too, so the registry is rebuilt from them (older events name the band line by the version id only).
  private rememberBand(info: InstrumentInfo, e: Extract<BookEvent, { type: 'BandScheduled' }>): void {
    const d = e.data;
    if (this.bands.has(d.guidanceVersion)) return;
    const named = legacyVersionFields({ resourceClass: info.resourceClass, region: info.region }, d.guidanceVersion);
    this.bands.set(d.guidanceVersion, {
      bandId: d.bandId ?? named.bandId,
      versionId: d.guidanceVersion,
      version: d.version ?? named.version,
      kind: d.kind ?? named.kind,
      resourceClass: info.resourceClass,
      region: d.region === undefined ? named.region : d.region,
      floor: d.floor,
      ceiling: d.ceiling,
      effectiveFrom: d.effectiveFrom,
      effectiveTo: d.effectiveTo,
    });
  }

  private newHandle(id: string): BookHandle {
    return {
      info: instrumentInfo(this.config, id),
      book: initialBook(),
      revision: 'no_stream',
      modelRevision: 'no_stream',
      needsReload: false,
      queue: [],
      draining: false,
    };
  }

  // ---- the catalog and listing ----

  /**
   * A catalog entry heard on the guidance topic, recorded once (at `no_stream`) in matching's own stream
   * `matching-catalog-<kind>-<id>`: the catalog subscription then lists its instruments. In embedded mode the owner's
   * events are in the same store and list them first; the record is then a harmless second source.
   */
  async catalogHeard(kind: 'resource-class' | 'region', id: string, causationId?: string): Promise<void> {
    const data = kind === 'resource-class' ? { resourceClassId: id } : { regionId: id };
    try {
      await this.store.appendToStream(
        `${MATCHING_CATALOG_PREFIX}${kind}-${id}`,
        [
          {
            type: 'CatalogEntryHeard',
            data: { kind, ...data },
            metadata: {
              ...(causationId ? { causationId, correlationId: causationId } : {}),
              actor: { service: 'matching' },
            },
          },
        ],
        { expectedRevision: 'no_stream' },
      );
    } catch (e) {
      if (!(e instanceof WrongExpectedVersion)) throw e;
    }
  }

  private noteCatalog(e: Pick<RecordedEvent, 'type' | 'data'>): boolean {
    const d = e.data as { resourceClassId?: unknown; regionId?: unknown };
    if (e.type === 'CatalogEntryHeard') {
      if (typeof d.resourceClassId === 'string') this.resourceClasses.add(d.resourceClassId);
      else if (typeof d.regionId === 'string') this.regions.add(d.regionId);
      else return false;
      return true;
    }
    if (e.type === 'ResourceClassCreated' && typeof d.resourceClassId === 'string') {
      this.resourceClasses.add(d.resourceClassId);
      return true;
    }
    if (e.type === 'RegionCreated' && typeof d.regionId === 'string') {
      this.regions.add(d.regionId);
      return true;
    }
    return false;
  }

  // The owner's streams (one store in embedded mode) and matching's own record of the catalog heard over Kafka.
  private static readonly CATALOG = { streamNamePrefixes: ['resource-class-', 'region-', MATCHING_CATALOG_PREFIX] };

  private async readCatalog(): Promise<Position | 'start'> {
    let last: Position | 'start' = 'start';
    for await (const e of this.store.readAll({ filter: MatchingEngine.CATALOG })) {
      this.noteCatalog(e);
      last = e.position;
    }
    return last;
  }

  private followCatalog(from: Position | 'start'): void {
    const sub = this.store.subscribeToAll({ fromPosition: from, filter: MatchingEngine.CATALOG });
    this.catalogSub = sub;
    void (async () => {
      try {
        for await (const e of sub) if (this.noteCatalog(e)) await this.list();
      } catch (e) {
        if (!this.stopped) this.report('the catalog subscription failed', e);
      }
    })();
  }

  /** Opens every instrument the catalog and today's date call for that is not open yet. */
  async list(): Promise<void> {
    const days = listedDays(this.config, this.deps.clock.now().getTime());
    const opening: Promise<unknown>[] = [];
    for (const rc of this.resourceClasses) {
      for (const region of this.regions) {
        for (const day of days) {
          const id = instrumentId(rc, region, day);
          if (!this.books.get(id)?.book.opened) opening.push(this.openInstrument(id));
        }
      }
    }
    await Promise.all(opening);
  }

  /** Opens one instrument's book (idempotent) and schedules on it every band guidance has published for it. */
  openInstrument(id: string): Promise<void> {
    let h = this.books.get(id);
    if (h === undefined) {
      h = this.newHandle(id);
      this.books.set(id, h);
      this.sortedIds = null;
    }
    return this.enqueue(h, SYSTEM_META('listing'), (hh, now) => {
      const events: BookEvent[] = [];
      const run = (cmd: BookCommand) => {
        const out = decide(cmd, hh.book);
        for (const e of out) evolve(hh.book, e);
        events.push(...out);
      };
      const meta = this.metaFor(hh, now);
      if (!hh.book.opened) {
        run({
          type: 'OpenBook',
          data: {
            instrument: id,
            tickSize: hh.info.spec.tickSize,
            lotSize: hh.info.spec.lotSize,
            tradingEndsAt: hh.info.tradingEndsAt,
            maxGuidanceLagMs: this.config.maxGuidanceLagMs,
          },
          metadata: meta,
        });
      }
      for (const v of this.bandsFor(hh.info, now)) run({ type: 'ApplyBand', data: bandData(v), metadata: meta });
      return { events, answer: () => undefined };
    }) as Promise<void>;
  }

  /**
   * Every version a new book must hear: its class's national and regional versions, all of them (the book
   * resolves the band in force itself, with the shared `bandAt`). A version that ended before now can never be in
   * force again, so it is left out; a withdrawal is kept whatever its window, since it ends the versions before it.
   */
  private bandsFor(info: InstrumentInfo, now: number): BandVersionInput[] {
    return [...this.bands.values()]
      .filter(
        (v) =>
          appliesTo(v, info) && (v.kind === 'withdrawn' || v.effectiveTo === null || Date.parse(v.effectiveTo) > now),
      )
      .sort((a, b) => a.bandId.localeCompare(b.bandId) || a.version - b.version);
  }

  // ---- guidance and market status ----

  /** Guidance for the class is complete up to `completeUpToMs` (a heartbeat): keeps its books from going stale. */
  guidanceHeard(resourceClass: string, completeUpToMs: number): void {
    const prev = this.guidanceSeen.get(resourceClass) ?? Number.NEGATIVE_INFINITY;
    if (completeUpToMs > prev) this.guidanceSeen.set(resourceClass, completeUpToMs);
  }

  /**
   * A band version from guidance (an issue, amendment or withdrawal): heard by every open book of its class, in
   * its region or, for a national version, in every region. Each book resolves the band in force from the
   * versions it has heard (a regional band overrides the national one while in force; the national one applies
   * again when it ends). Idempotent: a book ignores a version it has already heard of.
   */
  async applyBand(v: BandVersionInput): Promise<void> {
    if (!this.bands.has(v.versionId)) this.bands.set(v.versionId, v);
    const jobs: Promise<unknown>[] = [];
    for (const h of this.books.values()) {
      const info = h.info;
      if (!h.book.opened || h.book.closed || !appliesTo(v, info)) continue;
      jobs.push(
        this.command(h, SYSTEM_META('guidance'), (hh, now) => ({
          type: 'ApplyBand',
          data: bandData(v),
          metadata: this.metaFor(hh, now),
        })).catch((e: unknown) => {
          // A band the core cannot apply (e.g. a ceiling below the floor) is refused by every book alike;
          // retrying would not help, so it is reported, not redelivered forever.
          if (e instanceof DomainError) this.report(`band ${v.versionId} refused by ${info.id}`, e);
          else throw e;
        }),
      );
    }
    await Promise.all(jobs);
  }

  async setHalt(haltId: string, scope: HaltScope | null, reason: string): Promise<void> {
    if (scope === null) this.halts.delete(haltId);
    else this.halts.set(haltId, scope);
    const jobs: Promise<unknown>[] = [];
    for (const h of this.books.values()) {
      if (!h.book.opened) continue;
      const halted = [...this.halts.values()].some((s) => covers(s, h.info));
      if (halted === h.book.halted) continue;
      jobs.push(
        this.command(h, SYSTEM_META('market-status'), (hh, now) => ({
          type: 'SetMarketStatus',
          data: { status: halted ? 'HALTED' : 'OPEN', reason },
          metadata: this.metaFor(hh, now),
        })),
      );
    }
    await Promise.all(jobs);
  }

  // ---- time ----

  /** Lists new delivery days and sends Tick to every book with something due (expiries, bands, the cut-off). */
  async tick(): Promise<void> {
    if (this.resourceClasses.size > 0) await this.list();
    const now = this.deps.clock.now().getTime();
    const jobs: Promise<unknown>[] = [];
    for (const h of this.books.values()) {
      if (!h.book.opened || !isDue(h.book, now)) continue;
      jobs.push(
        this.command(h, SYSTEM_META('clock'), (hh, t) => ({ type: 'Tick', data: {}, metadata: this.metaFor(hh, t) })),
      );
    }
    await Promise.all(jobs);
  }

  private metaFor(h: BookHandle, now: number) {
    return { now, guidanceSeenAt: this.guidanceSeen.get(h.info.resourceClass) ?? null };
  }

  // ---- orders ----

  private handleOf(instrument: string): BookHandle {
    const h = this.books.get(instrument);
    if (h === undefined || !h.book.opened) {
      throw DomainError.invalid('MATCHING.UNKNOWN_INSTRUMENT', `no instrument ${instrument}`, 'instrument');
    }
    return h;
  }

  /**
   * Places an order. A retry with the account's client order id answers the original order (`replayed`) when it
   * asks for the same thing; otherwise the book decides (DUPLICATE_CLIENT_ORDER_ID where it already knows the id).
   */
  async placeOrder(input: PlaceOrderInput, meta: CommandMetadata): Promise<{ order: OrderRecord; replayed: boolean }> {
    const earlier = this.model.orderByClientId(input.account, input.clientOrderId);
    if (earlier !== undefined) {
      if (sameOrder(earlier, input)) return { order: earlier, replayed: true };
      if (earlier.instrument !== input.instrument) throw refusal('MATCHING.DUPLICATE_CLIENT_ORDER_ID', 'clientOrderId');
    }
    const h = this.handleOf(input.instrument);
    const orderId = newId('ord');
    const limits = this.deps.limitsOf?.(input.account) ?? null;
    return this.enqueue(h, meta, (hh, now) => {
      // A concurrent identical request decided earlier in this batch (not yet in the read model).
      const known = hh.book.clientOrderIds.get(`${input.account}\u0000${input.clientOrderId}`);
      // Or one the store holds but the read model had not seen when the request came in (a failed append that
      // landed, folded since by reload): a replay only if it asks for the same thing.
      if (known !== undefined && earlier === undefined) {
        return {
          events: [],
          answer: () => {
            const order = this.orderOrFail(known);
            if (!sameOrder(order, input)) throw refusal('MATCHING.DUPLICATE_CLIENT_ORDER_ID', 'clientOrderId');
            return { order, replayed: true };
          },
        };
      }
      const cmd: PlaceOrder = {
        type: 'PlaceOrder',
        data: {
          ...input,
          orderId,
          expiresAt: input.expiresAt ?? null,
          postOnly: input.postOnly ?? false,
          limits,
          elsewhere: hasLimit(limits) ? this.exposureElsewhere(hh, input.account) : null,
        },
        metadata: this.metaFor(hh, now),
      };
      const events = decide(cmd, hh.book);
      const rejected = events.find((e) => e.type === 'OrderRejected' && e.data.orderId === orderId);
      if (rejected?.type === 'OrderRejected' && INPUT_CODES.has(rejected.data.code)) {
        throw refusal(rejected.data.code, rejected.data.field);
      }
      const taker: OrderContext = {
        instrument: input.instrument,
        clientOrderId: input.clientOrderId,
        side: input.side,
      };
      return {
        events: this.withAppEvents(hh, events, new Map([[orderId, taker]])),
        answer: () => {
          if (rejected?.type === 'OrderRejected') throw refusal(rejected.data.code, rejected.data.field);
          return { order: this.orderOrFail(orderId), replayed: false };
        },
      };
    }) as Promise<{ order: OrderRecord; replayed: boolean }>;
  }

  private orderOrFail(orderId: string): OrderRecord {
    const o = this.model.orders.get(orderId);
    if (o === undefined) throw new AssertionFailed(`order ${orderId} was decided but is not in the read model`);
    return o;
  }

  /** The order, for its owner's account; anything else is ORDER_NOT_FOUND. */
  order(orderId: string): OrderRecord | undefined {
    return this.model.orders.get(orderId);
  }

  cancelOrder(orderId: string, meta: CommandMetadata): Promise<OrderRecord> {
    return this.modify(orderId, meta, (o) => ({
      type: 'CancelOrder',
      data: { orderId, account: o.account, instrument: o.instrument },
    }));
  }

  reduceOrder(orderId: string, quantityLots: number, meta: CommandMetadata): Promise<OrderRecord> {
    return this.modify(orderId, meta, (o) => ({
      type: 'ReduceOrder',
      data: { orderId, account: o.account, instrument: o.instrument, quantityLots },
    }));
  }

  repriceOrder(orderId: string, price: string, meta: CommandMetadata): Promise<OrderRecord> {
    const limits = (account: string) => this.deps.limitsOf?.(account) ?? null;
    return this.modify(orderId, meta, (o, hh) => ({
      type: 'RepriceOrder',
      data: {
        orderId,
        account: o.account,
        instrument: o.instrument,
        price,
        limits: limits(o.account),
        elsewhere: hasLimit(limits(o.account)) ? this.exposureElsewhere(hh, o.account) : null,
      },
    }));
  }

  private async modify(
    orderId: string,
    meta: CommandMetadata,
    build: (
      o: OrderRecord,
      h: BookHandle,
    ) => Omit<Extract<BookCommand, { type: 'CancelOrder' | 'ReduceOrder' | 'RepriceOrder' }>, 'metadata'>,
  ): Promise<OrderRecord> {
    const o = this.model.orders.get(orderId);
    if (o === undefined) throw orderNotFound();
    const h = this.handleOf(o.instrument);
    return this.enqueue(h, meta, (hh, now) => {
      const cmd = { ...build(o, hh), metadata: this.metaFor(hh, now) } as BookCommand;
      const events = decide(cmd, hh.book);
      const refused = events.find((e) => e.type === 'ModificationRejected' && e.data.orderId === orderId);
      if (refused?.type === 'ModificationRejected') {
        const code = refused.data.code;
        // Not found and malformed input change nothing; a refusal for a market reason is recorded.
        if (code === 'MATCHING.ORDER_NOT_FOUND' || INPUT_CODES.has(code)) throw refusal(code, refused.data.field);
      }
      return {
        events: this.withAppEvents(hh, events, new Map()),
        answer: () => {
          if (refused?.type === 'ModificationRejected') throw refusal(refused.data.code, refused.data.field);
          return this.orderOrFail(orderId);
        },
      };
    }) as Promise<OrderRecord>;
  }

  /** The kill switch: cancels every resting order of the account, on every book. Returns the cancelled ids. */
  async cancelAll(account: string, meta: CommandMetadata): Promise<string[]> {
    const jobs: Promise<string[]>[] = [];
    for (const h of this.books.values()) {
      if (!h.book.accounts.has(account)) continue;
      jobs.push(
        this.enqueue(h, meta, (hh, now) => {
          const events = decide(
            { type: 'CancelAllOrders', data: { account, instrument: hh.info.id }, metadata: this.metaFor(hh, now) },
            hh.book,
          );
          const ids = events.flatMap((e) =>
            e.type === 'OrderCancelled' && e.data.reason === 'KILL_SWITCH' ? [e.data.orderId] : [],
          );
          return { events: this.withAppEvents(hh, events, new Map()), answer: () => ids };
        }) as Promise<string[]>,
      );
    }
    return (await Promise.all(jobs)).flat().sort();
  }

  // ---- the writer ----

  /** Queues a core command whose outcome needs no interpretation (housekeeping, guidance, status). */
  private command(
    h: BookHandle,
    meta: CommandMetadata,
    build: (h: BookHandle, now: number) => BookCommand,
  ): Promise<unknown> {
    return this.enqueue(h, meta, (hh, now) => ({
      events: this.withAppEvents(hh, decide(build(hh, now), hh.book), new Map()),
      answer: () => undefined,
    }));
  }

  /**
   * Adds what the application records beside the core's events (see matching.events.ts) and applies each event
   * to the in-memory book as it goes, so the next command of the batch is decided against the result.
   */
  private withAppEvents(
    h: BookHandle,
    events: readonly BookEvent[],
    known: Map<string, OrderContext>,
  ): MatchingEvent[] {
    const out: MatchingEvent[] = [];
    for (const e of events) {
      if (e.type === 'OrderCancelled' || e.type === 'OrderExpired') {
        const resting = h.book.orders.get(e.data.orderId);
        const ctx: OrderContext | undefined = resting
          ? { instrument: h.info.id, clientOrderId: resting.clientOrderId, side: resting.side }
          : known.get(e.data.orderId);
        out.push(ctx ? ({ ...e, data: { ...e.data, ...ctx } } as MatchingEvent) : e);
      } else {
        out.push(e);
      }
      evolve(h.book, e);
      if (e.type === 'OrderRested') this.noteAccount(e.data.account, h);
      if (e.type === 'TradeExecuted') out.push(this.allocationFor(h.info, e));
    }
    return out;
  }

  private allocationFor(info: InstrumentInfo, e: Extract<BookEvent, { type: 'TradeExecuted' }>): AllocationCreated {
    const d = e.data;
    return {
      type: 'AllocationCreated',
      data: {
        allocationId: allocationIdOf(d.tradeId),
        tradeId: d.tradeId,
        instrument: info.id,
        resourceClass: info.resourceClass,
        region: info.region,
        providerAccount: d.sellerAccount,
        buyerAccount: d.buyerAccount,
        quantity: new Dec(d.quantityLots).mul(info.spec.lotSize).toFixed(),
        quantityLots: d.quantityLots,
        price: d.price,
        currency: info.currency,
        deliveryStart: info.deliveryStart,
        deliveryEnd: info.deliveryEnd,
        guidanceVersion: d.guidanceVersion,
        createdAt: d.executedAt,
      },
    };
  }

  private enqueue(
    h: BookHandle,
    meta: CommandMetadata,
    decideJob: (h: BookHandle, now: number) => Outcome<unknown>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      h.queue.push({ meta, decide: decideJob, resolve, reject });
      if (!h.draining) void this.drain(h).catch((e: unknown) => this.report('the book writer failed', e));
    });
  }

  private async drain(h: BookHandle): Promise<void> {
    h.draining = true;
    try {
      while (h.queue.length > 0) {
        const jobs = h.queue.splice(0, this.config.maxCommandsPerAppend);
        if (h.needsReload) {
          // Deciding against a book ahead of the store could answer what is not durable: refuse until it reloads.
          const failed = await this.tryReload(h);
          if (failed !== null) {
            for (const job of jobs) job.reject(failed);
            continue;
          }
        }
        const now = this.deps.clock.now().getTime();
        const decided: { job: Job; outcome: Outcome<unknown> }[] = [];
        const events: NewEvent[] = [];
        const applied: MatchingEvent[] = [];
        for (const job of jobs) {
          let outcome: Outcome<unknown>;
          try {
            outcome = job.decide(h, now);
          } catch (e) {
            job.reject(e);
            if (e instanceof AssertionFailed) this.report('a book invariant broke', e);
            continue;
          }
          decided.push({ job, outcome });
          const m = job.meta;
          for (const e of outcome.events) {
            applied.push(e);
            events.push({
              type: e.type,
              data: e.data,
              metadata: { correlationId: m.correlationId, causationId: m.causationId, actor: m.actor },
            });
          }
        }
        if (events.length > 0) {
          try {
            const r = await this.store.appendToStream(bookStream(h.info.id), events, { expectedRevision: h.revision });
            h.revision = r.nextExpectedRevision;
          } catch (e) {
            // The append may have landed all the same (a timeout, a failed COMMIT that was written): the reload
            // folds whatever the store holds into the read model. Every caller hears the store's error, whether
            // or not the reload works; a failed reload is retried before the book's next batch.
            h.needsReload = true;
            try {
              await this.tryReload(h);
            } finally {
              for (const d of decided) d.job.reject(e);
            }
            continue;
          }
          h.modelRevision = h.revision;
          this.fold(h, applied);
        }
        for (const d of decided) {
          try {
            d.job.resolve(d.outcome.answer());
          } catch (e) {
            d.job.reject(e);
          }
        }
      }
    } finally {
      h.draining = false;
    }
  }

  /** Committed events into the read model, then to the listeners (a listener's failure is only reported). */
  private fold(h: BookHandle, events: readonly MatchingEvent[]): void {
    for (const e of events) this.model.apply(h.info.id, e);
    if (events.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(h.info.id, events);
      } catch (e) {
        this.report('a committed-events listener failed', e);
      }
    }
  }

  /** Reloads the book; on failure it stays marked for reload and the error is returned (and reported). */
  private async tryReload(h: BookHandle): Promise<unknown> {
    try {
      await this.reload(h);
      return null;
    } catch (e) {
      h.needsReload = true;
      this.report(`reloading book ${h.info.id} failed`, e);
      return e ?? new Error(`reloading book ${h.info.id} failed`);
    }
  }

  /**
   * After a failed append: the book as the store has it, and into the read model every event of the stream it
   * has not seen yet (what a failed append wrote all the same). Nothing changes unless the whole stream is read.
   */
  private async reload(h: BookHandle): Promise<void> {
    const book = initialBook();
    let revision: bigint | 'no_stream' = 'no_stream';
    const unseen: MatchingEvent[] = [];
    const seen = h.modelRevision;
    try {
      for await (const e of this.store.readStream(bookStream(h.info.id))) {
        const event = { type: e.type, data: e.data } as MatchingEvent;
        if (isBookEvent(e.type)) evolve(book, event as BookEvent);
        if (seen === 'no_stream' || e.revision > seen) unseen.push(event);
        revision = e.revision;
      }
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    h.book = book;
    h.revision = revision;
    h.needsReload = false;
    this.indexAccounts(h);
    this.sortedIds = null;
    if (unseen.length > 0) {
      h.modelRevision = revision;
      this.fold(h, unseen);
    }
  }

  // ---- reads ----

  onCommitted(listener: CommittedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  handle(instrument: string): BookHandle | undefined {
    const h = this.books.get(instrument);
    return h?.book.opened ? h : undefined;
  }

  /** Open instruments' ids, sorted, for cursor pagination. */
  instrumentIds(): readonly string[] {
    this.sortedIds ??= [...this.books.keys()].filter((id) => this.books.get(id)!.book.opened).sort();
    return this.sortedIds;
  }

  isGuidanceFresh(resourceClass: string): boolean {
    const seen = this.guidanceSeen.get(resourceClass);
    return seen !== undefined && this.deps.clock.now().getTime() - seen <= this.config.maxGuidanceLagMs;
  }
}

const hasLimit = (l: AccountLimits | null): boolean =>
  l !== null && (l.maxOpenQuantityLots !== null || l.maxOpenNotional !== null);

const appliesTo = (v: BandVersionInput, info: InstrumentInfo): boolean =>
  v.resourceClass === info.resourceClass && (v.region === null || v.region === info.region);

const bandData = (v: BandVersionInput) => ({
  guidanceVersion: v.versionId,
  bandId: v.bandId,
  version: v.version,
  kind: v.kind,
  resourceClass: v.resourceClass,
  region: v.region,
  floor: v.floor,
  ceiling: v.ceiling,
  effectiveFrom: v.effectiveFrom,
  effectiveTo: v.effectiveTo,
});

const covers = (s: HaltScope, info: InstrumentInfo): boolean =>
  (s.resourceClass === undefined || s.resourceClass === info.resourceClass) &&
  (s.region === undefined || s.region === info.region) &&
  (s.instrument === undefined || s.instrument === info.id);

const isDue = (book: Book, now: number): boolean =>
  nextExpiryMs(book) <= now || book.nextBandChangeMs <= now || (!book.closed && book.tradingEndsAtMs <= now);

const sameOrder = (o: OrderRecord, i: PlaceOrderInput): boolean => {
  let samePrice = false;
  try {
    samePrice = new Dec(o.price).eq(i.price);
  } catch {
    samePrice = o.price === i.price;
  }
  return (
    o.instrument === i.instrument &&
    o.side === i.side &&
    samePrice &&
    o.quantityLots === i.quantityLots &&
    o.timeInForce === i.timeInForce
  );
};

export { parseInstrumentId, type AccountLimits };
