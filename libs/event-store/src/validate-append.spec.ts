// Proves the fast JSON-safety walk used on every append agrees with the one that explains refusals, on any value.
import fc from 'fast-check';
import { isJsonSafe, jsonProblem } from './validate-append';

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
