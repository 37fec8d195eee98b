import { v7 as uuidv7 } from 'uuid';

// Time-ordered ids (UUIDv7) keep index locality in the store; the prefix says what the id names when it shows
// up in a log or a support ticket.
export const newId = (prefix?: string): string => (prefix ? `${prefix}_${uuidv7()}` : uuidv7());

// Stream names are `<aggregate>-<id>` (DESIGN.md).
export const streamName = (aggregate: string, id: string): string => `${aggregate}-${id}`;

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** Ids that come from clients (client order ids, account ids) stay within a safe alphabet and length. */
export const isSafeId = (value: unknown): value is string => typeof value === 'string' && ID_RE.test(value);
