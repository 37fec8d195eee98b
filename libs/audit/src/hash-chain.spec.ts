// Proves the event hash is canonical (key order and unicode do not matter beyond content), the fast canonical
// JSON equals the canonicalize library on random JSON, and chaining links each event to the one before;
// the fast hashed text (one stringify, the stored hash left out) equals the reference on random events.
import fc from 'fast-check';
import {
  HASH,
  PREV_HASH,
  canonicalJson,
  chainBatch,
  type MetadataMemo,
  eventHash,
  eventHashFromText,
  storedHashOfText,
  fastCanonicalJson,
  hashedText,
  slowHashedText,
  sortKeysDeep,
} from './hash-chain';

const hasIntegerKey = (v: unknown): boolean =>
  v !== null &&
  typeof v === 'object' &&
  (Array.isArray(v)
    ? v.some(hasIntegerKey)
    : Object.entries(v).some(([k, x]) => /^(0|[1-9][0-9]*)$/.test(k) || hasIntegerKey(x)));

const base = { stream: 'ledger-1', revision: 3n, id: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6', type: 'TransferPosted' };

describe('hash chain', () => {
  it('the hash does not depend on key order and ignores the stored hash', () => {
    const a = eventHash({
      ...base,
      data: { a: 1, b: { y: [1, 'é'], x: null } },
      metadata: { c: 1, [PREV_HASH]: null },
    });
    const b = eventHash({
      ...base,
      data: { b: { x: null, y: [1, 'é'] }, a: 1 },
      metadata: { [HASH]: 'f'.repeat(64), [PREV_HASH]: null, c: 1 },
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('any change of content, stream, revision or id changes the hash; unicode is hashed as written', () => {
    const e = { ...base, data: { note: '計算資源 🚀', price: '1.25' }, metadata: {} };
    const h = eventHash(e);
    expect(eventHash({ ...e, data: { note: '計算資源 🚀', price: '1.26' } })).not.toBe(h);
    expect(eventHash({ ...e, data: { note: '計算資源 🚁', price: '1.25' } })).not.toBe(h);
    expect(eventHash({ ...e, stream: 'ledger-2' })).not.toBe(h);
    expect(eventHash({ ...e, revision: 4n })).not.toBe(h);
    expect(eventHash({ ...e, id: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf7' })).not.toBe(h);
    // Precomposed and decomposed é are different texts: RFC 8785 does not normalise, and neither do we.
    expect(eventHash({ ...e, data: { note: '\u00e9' } })).not.toBe(eventHash({ ...e, data: { note: 'e\u0301' } }));
  });

  it('the fast canonical JSON equals the canonicalize library on random JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 2000 },
    );
    expect(fastCanonicalJson({ b: 1, a: [1e21, -0, 0.1, '\u2028\ud800'], '10': 1, '9': 2 })).toBe(
      canonicalJson({ b: 1, a: [1e21, -0, 0.1, '\u2028\ud800'], '10': 1, '9': 2 }),
    );
  });

  it('a batch is linked: each prevHash is the hash before it, and the hashed text is canonical JSON', () => {
    const { events, lastHash } = chainBatch('s-1', 0n, null, [
      { id: 'a0000000-0000-4000-8000-000000000000', type: 'A', data: { z: 1, a: 2 }, metadata: { k: 'v' } },
      { id: 'b0000000-0000-4000-8000-000000000000', type: 'B', data: {}, metadata: {} },
    ]);
    expect(events[0]?.metadata[PREV_HASH]).toBeNull();
    expect(events[1]?.metadata[PREV_HASH]).toBe(events[0]?.metadata[HASH]);
    expect(lastHash).toBe(events[1]?.metadata[HASH]);
    const text = hashedText({ stream: 's-1', revision: 0n, ...(events[0] as Required<(typeof events)[0]>) });
    expect(text.startsWith('{"data":{"a":2,"z":1},"id":"a0000000')).toBe(true);
    expect(text).not.toContain(HASH);
  });
});

describe('the hashed text', () => {
  const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
  // Metadata as ChainedEventStore writes it (keys sorted, cx.hash among them) and as a forger might (unsorted, a
  // nested or a second "cx.hash" member with the same value, the hash inside a string, no hash, a non-string hash).
  const metadata = fc
    .tuple(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }), hex, fc.nat(5), fc.boolean())
    .map(([m, h, variant, sorted]) => {
      const out: Record<string, unknown> = { ...m, [PREV_HASH]: variant === 0 ? null : h };
      if (variant !== 1) out[HASH] = variant === 2 ? 7 : h;
      if (variant === 3) out.actor = { [HASH]: h };
      if (variant === 4) out.note = `"${HASH}":"${h}"`;
      if (!sorted) return out;
      // As ChainedEventStore writes it: sorted, then cx.hash added last.
      const { [HASH]: hash, ...others } = sortKeysDeep(out) as Record<string, unknown>;
      return variant === 5 ? { ...others, [HASH]: hash } : { [HASH]: hash, ...others };
    });

  it('equals the canonicalize library over the envelope without cx.hash (property)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        metadata,
        fc.string(),
        fc.bigInt({ min: 0n, max: 1n << 62n }),
        (data, md, type, revision) => {
          const e = { ...base, revision, type, data, metadata: md };
          const { [HASH]: _, ...rest } = md;
          const reference = canonicalJson({ ...e, revision: revision.toString(), metadata: rest });
          expect(hashedText(e)).toBe(reference);
          expect(slowHashedText(e)).toBe(reference);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('leaves cx.hash out wherever it sits, and hands the metadata back as it was (frozen too)', () => {
    const h = 'a'.repeat(64);
    for (const md of [{ [HASH]: h }, { a: 1, [HASH]: h }, { [HASH]: h, z: 1 }, { a: 1, [HASH]: h, z: [h] }]) {
      for (const metadata of [md, Object.freeze({ ...md })]) {
        const before = JSON.stringify(metadata);
        const e = { ...base, data: { x: 1 }, metadata };
        expect(hashedText(e)).toBe(slowHashedText(e));
        expect(hashedText(e)).not.toContain(`"${HASH}"`);
        expect(JSON.stringify(metadata)).toBe(before);
      }
    }
  });

  it('chainBatch stores the text it hashed, and the hash from that text equals the hash from the values (property)', () => {
    const json = fc.dictionary(fc.string(), fc.jsonValue());
    fc.assert(
      fc.property(json, json, fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }), (data, meta, prev) => {
        const [e] = chainBatch('s-1', 7n, prev, [{ id: base.id, type: 'T', data, metadata: meta }]).events;
        const chained = e as typeof e & object;
        const where = { stream: 's-1', revision: 7n, id: base.id, type: 'T' };
        // What a store reads back: the stored texts, and the values they parse to.
        const parsed = {
          data: JSON.parse(chained.text.data) as unknown,
          metadata: JSON.parse(chained.text.metadata),
        };
        const fromValues = eventHash({ ...where, ...parsed });
        expect(fromValues).toBe(chained.metadata[HASH]);
        const fromText = eventHashFromText(where, chained.text);
        // The stored text is canonical but where an object has integer-like keys, which JSON.stringify writes
        // first: only there may the text path disagree (and verify then decides by the values).
        if (!hasIntegerKey(chained.metadata)) expect(fromText).toBe(fromValues);
        // The hash the text ends with is the one parsing gives (what verify's hash pass compares without parsing).
        expect(storedHashOfText(chained.text.metadata)).toBe(parsed.metadata[HASH]);
        // What a store is handed as the metadata's text is exactly its JSON.stringify (the data's is its canonical
        // text, which parses to the same value: checked above).
        expect(chained.text.metadata).toBe(JSON.stringify(chained.metadata));
      }),
      { numRuns: 1000 },
    );
  });

  it('chainBatch with a memo (claims sharing one metadata object) writes exactly what it writes without (property)', () => {
    const json = fc.dictionary(fc.string(), fc.jsonValue());
    fc.assert(
      fc.property(json, json, json, (meta, d1, d2) => {
        const before = JSON.stringify(meta);
        const memo: MetadataMemo = new Map();
        const claim = (stream: string, data: unknown, m?: MetadataMemo) =>
          chainBatch(stream, 0n, null, [{ id: base.id, type: 'T', data, metadata: meta }], m);
        const withMemo = [claim('s-1', d1, memo), claim('s-2', d2, memo)];
        expect(withMemo).toEqual([claim('s-1', d1), claim('s-2', d2)]);
        for (const e of withMemo.flatMap((r) => r.events)) {
          expect(e.text.metadata).toBe(JSON.stringify(e.metadata));
        }
        // Each event its own metadata object; the caller's unchanged.
        expect(withMemo[0]?.events[0]?.metadata).not.toBe(withMemo[1]?.events[0]?.metadata);
        expect(JSON.stringify(meta)).toBe(before);
      }),
      { numRuns: 500 },
    );
  });

  it('a changed byte in either stored text changes the hash from text', () => {
    const [e] = chainBatch('s-1', 0n, null, [
      { id: base.id, type: 'T', data: { price: '1.25' }, metadata: { c: 1 } },
    ]).events;
    const text = (e as NonNullable<typeof e>).text;
    const where = { stream: 's-1', revision: 0n, id: base.id, type: 'T' };
    const h = eventHashFromText(where, text);
    expect(h).toBe((e as NonNullable<typeof e>).metadata[HASH]);
    expect(eventHashFromText(where, { ...text, data: text.data.replace('1.25', '1.26') })).not.toBe(h);
    expect(eventHashFromText(where, { ...text, metadata: text.metadata.replace('"c":1', '"c":2') })).not.toBe(h);
    expect(eventHashFromText({ ...where, revision: 1n }, text)).not.toBe(h);
    // Not the stored form (no cx.hash last): no answer, the caller hashes the values.
    expect(eventHashFromText(where, { data: text.data, metadata: '{"c":1}' })).toBeUndefined();
    expect(eventHashFromText(where, { data: text.data, metadata: null })).toBeUndefined();
    expect(storedHashOfText('{"c":1}')).toBeUndefined();
    expect(storedHashOfText(null)).toBeUndefined();
    // cx.hash last but nested, or not a string: not the stored form.
    const hex = 'a'.repeat(64);
    expect(storedHashOfText(`{"c":{"x":1,"cx.hash":"${hex}"}}`)).toBeUndefined();
    expect(storedHashOfText(`{"c":1,"cx.hash":"${hex}"}`)).toBe(hex);
  });
});
