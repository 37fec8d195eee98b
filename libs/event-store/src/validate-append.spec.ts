// Proves the fast JSON-safety walk used on every append agrees with the one that explains refusals, on any value.
import fc from 'fast-check';
import { InvalidAppend } from './event-store.errors';
import { isJsonSafe, jsonProblem, validateAppend } from './validate-append';

const awkward = fc.oneof(
  fc.constant(undefined),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.constant(10n),
  fc.constant(new Date(0)),
  fc.constant(new Map()),
);

describe('isJsonSafe', () => {
  it('accepts exactly what jsonProblem finds no problem with', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything({ values: [fc.jsonValue(), awkward] })), (value) => {
        expect(isJsonSafe(value)).toBe(jsonProblem(value, 'data') === undefined);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses cycles and accepts shared (acyclic) references', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(isJsonSafe(cyclic)).toBe(false);
    expect(jsonProblem(cyclic, 'data')).toBeDefined();
    const shared = { x: 1 };
    expect(isJsonSafe({ a: shared, b: shared })).toBe(jsonProblem({ a: shared, b: shared }, 'data') === undefined);
  });
});

describe('validateAppend', () => {
  const refusal = (events: unknown): InvalidAppend => {
    try {
      validateAppend('s-1', events, 'any');
    } catch (e) {
      if (e instanceof InvalidAppend) return e;
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a hole in a batch as a missing event, naming it', () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    const e = refusal([{ type: 'T', data: {} }, , { type: 'T', data: {} }]);
    expect(e.field).toBe('events[1]');
    expect(e.message).toBe('events[1] must be an object with type and data, not undefined');
  });

  it('compares ids within a batch case-insensitively, and takes one event with an id as it is', () => {
    const id = 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
    expect(() => validateAppend('s-1', { id, type: 'T', data: {} }, 'any')).not.toThrow();
    const e = refusal([
      { id, type: 'T', data: {} },
      { id: id.toUpperCase(), type: 'T', data: {} },
    ]);
    expect(e.field).toBe('events[1].id');
    expect(e.message).toContain('repeats events[0].id');
  });
});
