import { DomainError } from './errors';

// Every list is cursor-paginated. A cursor is opaque to clients: base64url of the last key seen.

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  after: string | null;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

export const decodeCursor = (cursor: string): string => {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) {
    throw DomainError.invalid('PAGINATION.INVALID_CURSOR', 'cursor is not one this API issued', 'cursor');
  }
  return Buffer.from(cursor, 'base64url').toString('utf8');
};

export const parsePageRequest = (query: { limit?: unknown; cursor?: unknown }): PageRequest => {
  let limit = DEFAULT_PAGE_LIMIT;
  if (query.limit !== undefined && query.limit !== '') {
    const raw = String(query.limit);
    if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_LIMIT) {
      throw DomainError.invalid(
        'PAGINATION.INVALID_LIMIT',
        `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`,
        'limit',
      );
    }
    limit = Number(raw);
  }
  const after = query.cursor === undefined || query.cursor === '' ? null : decodeCursor(String(query.cursor));
  return { limit, after };
};

/** Pages a list already sorted by `key`: the items strictly after the cursor, at most `limit` of them. */
export const paginate = <T>(sorted: readonly T[], key: (item: T) => string, req: PageRequest): Page<T> => {
  let start = 0;
  if (req.after !== null) {
    const after = req.after;
    // Binary search: lists can be long and keys are sorted.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(sorted[mid] as T) <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const items = sorted.slice(start, start + req.limit);
  const last = items[items.length - 1];
  const more = start + req.limit < sorted.length;
  return { items, nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
};
