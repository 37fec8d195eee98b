import canonicalize from 'canonicalize';
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import type { EventMetadata } from '@cx/event-store';

// The hash chain every event carries (issue 8, "Tamper evidence"). Pure functions: no I/O.
//
// Two fields are added to each event's metadata by ChainedEventStore:
//   `cx.prevHash`: the `cx.hash` of the previous event in the same stream, or null for a stream's first event.
//                  A soft-deleted stream that is written again continues its chain: the first event of the new
//                  life points at the last event of the old one, so deleted events stay in the chain.
//   `cx.hash`:     sha256 (lower-case hex) of the RFC 8785 canonical JSON of
//                  { stream, revision (decimal string), id, type, data, metadata without `cx.hash` }.
// The issue asks for type, data and metadata; stream, revision and id are covered too, so that moving an event to
// another stream, renumbering it or changing its id is found by recomputation alone. `cx.prevHash` is inside the
// hashed metadata, which is what links each event to its predecessor. The store's `created` clock and the global
// position are not covered: the store assigns them after hashing (checkpoints pin positions instead).

export const PREV_HASH = 'cx.prevHash';
export const HASH = 'cx.hash';

export interface HashInput {
  stream: string;
  revision: bigint;
  /** Lower-case UUID, as stores hand ids back. */
  id: string;
  type: string;
  data: unknown;
  /** The event's metadata; a `cx.hash` field in it is ignored, `cx.prevHash` is covered. */
  metadata: EventMetadata;
}

/** RFC 8785 canonical JSON through the `canonicalize` library: the reference. */
export const canonicalJson = (value: unknown): string => {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
};

/**
 * The same RFC 8785 output as `canonicalJson` for JSON values (what a store hands back: plain objects, arrays,
 * strings, finite numbers, booleans, null), about five times faster: verify hashes every event, and the library's
 * reduce-and-template recursion was most of verify's time. Strings and numbers go through JSON.stringify exactly
 * as in the library (ES number serialisation is what RFC 8785 specifies); keys are sorted by UTF-16 code units.
 * hash-chain.spec.ts proves it equal to the library on random JSON (fast-check).
 */
export const fastCanonicalJson = (value: unknown): string =>
  // When every object's keys are already in order, JSON.stringify (native) writes exactly the canonical text.
  alreadyCanonical(value) ? (JSON.stringify(value) as string) : slowCanonicalJson(value);

const alreadyCanonical = (value: unknown): boolean => {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!alreadyCanonical(value[i])) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  let previous: string | null = null;
  for (const k in obj) {
    if (previous !== null && !(previous < k)) return false;
    if (!alreadyCanonical(obj[k])) return false;
    previous = k;
  }
  return true;
};

/** alreadyCanonical for an object whose member `skip` is left out (wherever it sits). */
const canonicalBut = (value: unknown, skip: string): boolean => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  let previous: string | null = null;
  for (const k in obj) {
    if (k === skip) continue;
    if (previous !== null && !(previous < k)) return false;
    if (!alreadyCanonical(obj[k])) return false;
    previous = k;
  }
  return true;
};

const slowCanonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${value} is not allowed in JSON`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`${typeof value} has no JSON representation`);
    return text;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += (i === 0 ? '' : ',') + (v === undefined || typeof v === 'symbol' ? 'null' : slowCanonicalJson(v));
    }
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson(value);
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${slowCanonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
};

/** The exact text that is hashed for an event. Exposed for tests and for anyone re-implementing verify. */
export const hashedText = (e: HashInput): string => {
  const { data, metadata } = e;
  // The common case, every event ChainedEventStore wrote: data and metadata in canonical key order but for
  // `cx.hash`, which is added last. One native JSON.stringify of the whole envelope, with the stored `cx.hash`
  // set to undefined for its duration (JSON.stringify leaves undefined members out, as RFC 8785 canonicalisation
  // does) and put back at once, instead of a sorted copy of the metadata without it and a second walk: verify
  // hashes every event. Nothing runs between the two assignments.
  const stored = metadata[HASH];
  if (alreadyCanonical(data) && canonicalBut(metadata, HASH) && (stored === undefined || typeof stored === 'string')) {
    if (stored !== undefined && !Reflect.set(metadata, HASH, undefined)) return slowHashedText(e);
    try {
      // Members in canonical order.
      return JSON.stringify({
        data,
        id: e.id,
        metadata,
        revision: e.revision.toString(),
        stream: e.stream,
        type: e.type,
      }) as string;
    } finally {
      if (stored !== undefined) metadata[HASH] = stored;
    }
  }
  return slowHashedText(e);
};

/** The reference construction: a copy of the metadata without `cx.hash`, canonicalised as a whole. */
export const slowHashedText = (e: HashInput): string =>
  fastCanonicalJson({
    data: e.data,
    id: e.id,
    metadata: withoutHash(e.metadata),
    revision: e.revision.toString(),
    stream: e.stream,
    type: e.type,
  });

const withoutHash = (metadata: EventMetadata): EventMetadata => {
  const out: EventMetadata = {};
  for (const k of Object.keys(metadata).sort()) if (k !== HASH) setMember(out, k, metadata[k]);
  return out;
};

/**
 * `obj[k] = v` as an own member even for `__proto__`, which assignment would take as the prototype (dropping the
 * member from the JSON: fast-check found it).
 */
const setMember = (obj: Record<string, unknown>, k: string, v: unknown): void => {
  if (k === '__proto__')
    Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
};

/** A copy of a JSON value with every object's keys in canonical order (what ChainedEventStore writes). */
export const sortKeysDeep = (value: unknown): unknown => {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj).sort()) setMember(out, k, sortKeysDeep(obj[k]));
  return out;
};

// crypto.hash (Node >= 20.12) skips the Hash object, which costs more than hashing a few hundred bytes.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
export const sha256Hex = (text: string): string =>
  oneShot !== undefined ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex');

export const eventHash = (e: HashInput): string => sha256Hex(hashedText(e));

/** The chain fields of a recorded event's metadata, or null where they are missing or malformed. */
export const chainFields = (metadata: EventMetadata): { prevHash: string | null | undefined; hash: string | null } => {
  const prev = metadata[PREV_HASH];
  const hash = metadata[HASH];
  return {
    prevHash: prev === null || (typeof prev === 'string' && HEX64.test(prev)) ? prev : undefined,
    hash: typeof hash === 'string' && HEX64.test(hash) ? hash : null,
  };
};

const HEX64 = /^[0-9a-f]{64}$/;

export interface UnchainedEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/**
 * The hashed text of an event from the canonical JSON texts of its data and of its metadata without `cx.hash`:
 * the canonical envelope, written by concatenation (canonical JSON is compositional), so that a writer can store
 * the very data text it hashed instead of serialising the payload twice.
 */
export const envelopeText = (
  e: Pick<HashInput, 'stream' | 'revision' | 'id' | 'type'>,
  dataText: string,
  metadataText: string,
): string =>
  `{"data":${dataText},"id":${JSON.stringify(e.id)},"metadata":${metadataText},` +
  `"revision":"${e.revision.toString()}","stream":${JSON.stringify(e.stream)},"type":${JSON.stringify(e.type)}}`;

const HASH_MEMBER = `,"${HASH}":"`;
/** `,"cx.hash":"<64 hex>"}`: how the metadata text a chained writer stores ends (cx.hash is set last). */
const HASH_SUFFIX_LENGTH = HASH_MEMBER.length + 64 + 2;

/**
 * The hash of an event computed from the exact text a store read it from, or undefined when that text is not in
 * the form a chained writer stores (canonical data; canonical metadata with `cx.hash` appended last). No value is
 * serialised again: verify hashes every event, and this is most of that work.
 *
 * A result equal to the stored `cx.hash` proves the stored text is exactly what was hashed: the envelope's fixed
 * members separate two texts that are each one complete JSON value (the store parsed them), so no other pair of
 * texts makes the same envelope. Any other result proves nothing (a writer that spelled the same values
 * differently, e.g. integer-like keys, which JSON.stringify puts first): the caller then recomputes from the
 * values with eventHash, which decides.
 */
export const eventHashFromText = (
  e: Pick<HashInput, 'stream' | 'revision' | 'id' | 'type'>,
  text: { data: string; metadata: string | null },
): string | undefined => {
  const m = text.metadata;
  if (m === null || storedHashOfText(m) === undefined) return undefined;
  return sha256Hex(envelopeText(e, text.data, `${m.slice(0, m.length - HASH_SUFFIX_LENGTH)}}`));
};

/**
 * The `cx.hash` a chained writer's metadata text ends with (`,"cx.hash":"<64 chars>"}`), or undefined when the text
 * does not end that way. In a text that is one JSON object this is its last top-level member (an unescaped quote
 * pair that closes the object cannot be inside a string), so it is what parsing the text gives as `cx.hash`.
 */
export const storedHashOfText = (m: string | null): string | undefined => {
  if (m === null || m.length <= HASH_SUFFIX_LENGTH || m.charCodeAt(m.length - 1) !== 0x7d) return undefined;
  const cut = m.length - HASH_SUFFIX_LENGTH;
  if (!m.startsWith(HASH_MEMBER, cut) || m.charCodeAt(m.length - 2) !== 0x22) return undefined;
  return m.slice(cut + HASH_MEMBER.length, m.length - 2);
};

/** An event ready to append, with the JSON texts of its data and metadata as they are to be stored. */
export interface ChainedEvent extends UnchainedEvent {
  text: { data: string; metadata: string };
}

/** The metadata a chained event carries before its hash, with its canonical text. */
export interface ChainedMetadata {
  metadata: EventMetadata;
  text: string;
  /** JSON.stringify writes `text` too (no member order that only canonicalisation fixes). */
  plain: boolean;
}

/**
 * The metadata a chained event carries before its hash: the caller's, less any chain fields, plus `cx.prevHash`, in
 * canonical key order. Built without `delete`, which would leave a slow dictionary-mode object to serialise.
 */
const chainMetadata = (given: EventMetadata, prev: string | null): ChainedMetadata => {
  const keys = Object.keys(given).filter((k) => k !== HASH && k !== PREV_HASH);
  keys.push(PREV_HASH);
  keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) setMember(out, k, k === PREV_HASH ? prev : sortKeysDeep(given[k]));
  const plain = alreadyCanonical(out);
  return {
    metadata: out as EventMetadata,
    text: plain ? (JSON.stringify(out) as string) : slowCanonicalJson(out),
    plain,
  };
};

/**
 * Metadata objects already chained as the first event of a stream (`cx.prevHash` null) during one synchronous call:
 * a writer claiming many streams at once gives them all the same metadata, which is then sorted and serialised
 * once. Only valid while nothing can change those objects, so never kept beyond the call that made it.
 */
export type MetadataMemo = Map<EventMetadata, ChainedMetadata>;

/**
 * Sets the chain fields on a batch about to be written at `firstRevision`, after `prevHash`. Returns new events
 * (the caller's objects are not changed), each with the canonical JSON text of its data (the text that was hashed)
 * and of its metadata, and the hash of the last one.
 */
export const chainBatch = (
  stream: string,
  firstRevision: bigint,
  prevHash: string | null,
  events: readonly UnchainedEvent[],
  memo?: MetadataMemo,
): { events: ChainedEvent[]; lastHash: string | null } => {
  let prev = prevHash;
  const out = new Array<ChainedEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as UnchainedEvent;
    // Written with keys in canonical order, so verify's fast path (native JSON.stringify) applies on read.
    let chained: ChainedMetadata;
    let metadata: EventMetadata;
    if (prev === null && memo !== undefined) {
      const seen = memo.get(e.metadata);
      chained = seen ?? chainMetadata(e.metadata, null);
      if (seen === undefined) memo.set(e.metadata, chained);
      // Each event its own object (its hash is set on it), members in the same order.
      metadata = { ...chained.metadata };
    } else {
      chained = chainMetadata(e.metadata, prev);
      metadata = chained.metadata;
    }
    // Data already in canonical order (and so already a copy-free JSON value) is not copied.
    const data = alreadyCanonical(e.data) ? e.data : sortKeysDeep(e.data);
    const dataText = data === e.data ? (JSON.stringify(data) as string) : fastCanonicalJson(data);
    const hash = sha256Hex(
      envelopeText({ stream, revision: firstRevision + BigInt(i), id: e.id, type: e.type }, dataText, chained.text),
    );
    metadata[HASH] = hash;
    // What JSON.stringify would write with `cx.hash` added last, without walking the metadata again.
    const metadataText = chained.plain
      ? `${chained.text.slice(0, -1)}${HASH_MEMBER}${hash}"}`
      : JSON.stringify(metadata);
    out[i] = { id: e.id, type: e.type, data, metadata, text: { data: dataText, metadata: metadataText } };
    prev = hash;
  }
  return { events: out, lastHash: prev };
};
