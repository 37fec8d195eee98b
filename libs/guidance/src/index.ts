// The one implementation of "the band in force at time T" (DESIGN.md, "Price band"), shared by every service: the
// resolution rule, an idempotent in-memory book of versions, and the mapping from the integration contract.
export * from './band-version';
export * from './band-at';
export * from './guidance-book';
export * from './guidance-contract';
