// Proves cursor pagination visits every item exactly once, in order, and refuses malformed limits and cursors.
import fc from 'fast-check';
import { DomainError } from './errors';
import { paginate, parsePageRequest } from './pagination';

describe('paginate', () => {
  it('walks any sorted list page by page without loss or repetition', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 17 }),
        (keys, limit) => {
          const sorted = [...keys].sort();
          const seen: string[] = [];
          let cursor: string | undefined;
          for (let guard = 0; guard <= sorted.length + 1; guard++) {
            const page = paginate(sorted, (k) => k, parsePageRequest({ limit: String(limit), cursor }));
            seen.push(...page.items);
            if (page.nextCursor === null) break;
            cursor = page.nextCursor;
          }
          expect(seen).toEqual(sorted);
        },
      ),
    );
  });

  it.each([['0'], ['501'], ['-1'], ['1.5'], ['abc'], ['1e2']])('refuses limit %s', (limit) => {
    expect(() => parsePageRequest({ limit })).toThrow(DomainError);
  });

  it('refuses a cursor it did not issue', () => {
    expect(() => parsePageRequest({ cursor: 'not a cursor!' })).toThrow(DomainError);
  });
});
