import type { TransferRecord } from './ledger.events';

// Every transfer a ledger has recorded, by id: what makes ids idempotent. An open-addressing hash table over
// typed arrays, as TigerBeetle keeps its own hash maps, instead of a Map.
//
// A ledger records millions of ids and looks up every new one, so the table's memory traffic is most of what
// recording a transfer costs once the ledger is large. A Map that size answers a lookup by walking a bucket chain
// through entries and key strings scattered over the heap, a few cache misses each; this table keeps each id's hash
// beside its record's position in one array, so an id it does not hold costs one probe sequence in one place, and
// adding one writes two integers there. The records stay in one array in the order added, which is also the order
// this index lists them in, as a Map's would be.
//
// Linear probing, at most half full. An id is looked for only within PROBE_WINDOW slots of its home slot; one added
// when every slot of its window was taken (the hashes of many ids colliding, by bad luck or on purpose) goes to a
// Map instead, so colliding ids cost what a Map costs and never a walk through the table.

/** Slots an id is looked for in, from its home slot on. */
const PROBE_WINDOW = 32;
const INITIAL_SLOTS = 1 << 10;
/** 2^28 slots (a 2 GiB table); past that the table stays as it is and new ids overflow to the Map. */
const MAX_SLOTS = 1 << 28;

/** 32-bit FNV-1a over the id's UTF-16 code units, then MurmurHash3's finaliser so every bit reaches the low ones. */
export const hashId = (id: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
};

export class TransferIndex implements Iterable<[string, TransferRecord]> {
  private readonly records: TransferRecord[] = [];
  /** Pairs [hash, position in `records` + 1]; a pair whose second is 0 is a free slot. */
  private slots: Int32Array;
  /** Id → position in `records`, for ids whose probe window was full when they were placed. */
  private overflow: Map<string, number> | null = null;

  /** Both parameters are for tests, which make ids collide and tables grow on purpose. */
  constructor(
    private readonly hash: (id: string) => number = hashId,
    initialSlots = INITIAL_SLOTS,
  ) {
    if (!(initialSlots >= 1 && (initialSlots & (initialSlots - 1)) === 0)) {
      throw new TypeError('initialSlots must be a power of two');
    }
    this.slots = new Int32Array(2 * initialSlots);
  }

  get size(): number {
    return this.records.length;
  }

  get(id: string): TransferRecord | undefined {
    const h = this.hash(id);
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    for (let k = 0; k < PROBE_WINDOW; k++) {
      const i = ((h + k) & mask) << 1;
      const ref = slots[i + 1] as number;
      // Slots are never freed, so a free slot ends every probe sequence that could have passed it.
      if (ref === 0) return undefined;
      if (slots[i] === h) {
        const r = this.records[ref - 1] as TransferRecord;
        if (r.id === id) return r;
      }
    }
    const at = this.overflow?.get(id);
    return at === undefined ? undefined : this.records[at];
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Records `record` under its id, unless a record with that id is here already; whether it was added. */
  add(record: TransferRecord): boolean {
    const capacity = this.slots.length >>> 1;
    if ((this.records.length + 1) * 2 > capacity && capacity < MAX_SLOTS) this.grow();
    const id = record.id;
    const h = this.hash(id);
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    for (let k = 0; k < PROBE_WINDOW; k++) {
      const i = ((h + k) & mask) << 1;
      const ref = slots[i + 1] as number;
      if (ref === 0) {
        // A free slot in its window: the id is nowhere, not even in the overflow map (whose ids have full windows).
        slots[i] = h;
        slots[i + 1] = this.records.push(record);
        return true;
      }
      if (slots[i] === h && (this.records[ref - 1] as TransferRecord).id === id) return false;
    }
    const overflow = (this.overflow ??= new Map());
    if (overflow.has(id)) return false;
    overflow.set(id, this.records.push(record) - 1);
    return true;
  }

  *keys(): IterableIterator<string> {
    for (const r of this.records) yield r.id;
  }

  values(): IterableIterator<TransferRecord> {
    return this.records.values();
  }

  *entries(): IterableIterator<[string, TransferRecord]> {
    for (const r of this.records) yield [r.id, r];
  }

  [Symbol.iterator](): IterableIterator<[string, TransferRecord]> {
    return this.entries();
  }

  /**
   * Doubles the table and places every record again, from the hashes the table holds: no record is read, except
   * the rare one that overflows. Placing in any order keeps lookups right, because a slot, once taken, stays taken.
   */
  private grow(): void {
    const old = this.slots;
    const overflowed = this.overflow;
    this.slots = new Int32Array(old.length * 2);
    this.overflow = null;
    for (let i = 0; i < old.length; i += 2) {
      const ref = old[i + 1] as number;
      if (ref !== 0) this.place(old[i] as number, ref - 1);
    }
    overflowed?.forEach((position, id) => this.place(this.hash(id), position));
  }

  /** Puts a record's position in the first free slot of its window, or in the overflow map when there is none. */
  private place(h: number, position: number): void {
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    for (let k = 0; k < PROBE_WINDOW; k++) {
      const i = ((h + k) & mask) << 1;
      if (slots[i + 1] === 0) {
        slots[i] = h;
        slots[i + 1] = position + 1;
        return;
      }
    }
    (this.overflow ??= new Map()).set((this.records[position] as TransferRecord).id, position);
  }
}
