import type { StatementLine, StatementSummary } from './statement';

// A statement lives in its own stream `statement-<account>-<period>`. An issue writes its lines in chunks
// (`StatementLinesRecorded`, at most a few thousand lines each, so a million-line statement is never one event or
// one allocation) and then its header, `StatementIssued`, which is what makes it exist: chunks of an issue that
// never got its header (a crash mid-way) are ignored. A correction reissues the statement as a new version in the
// same stream; nothing is edited.

export const STATEMENT_STREAM_PREFIX = 'statement-';
export const statementStream = (account: string, period: string): string =>
  `${STATEMENT_STREAM_PREFIX}${account}-${period}`;

export interface StatementLinesRecorded {
  type: 'StatementLinesRecorded';
  data: { issueId: string; offset: number; lines: StatementLine[] };
}

export interface StatementIssued {
  type: 'StatementIssued';
  data: {
    statementId: string;
    issueId: string;
    version: number;
    summary: StatementSummary;
    contentHash: string;
    /** Stream revisions of this issue's line chunks, inclusive; null when it has no lines. */
    lineChunks: { fromRevision: string; toRevision: string } | null;
    /** What it was built from: the ledger stream's revision and the store's position when it was built. */
    builtFrom: { ledgerRevision: string | null; position: { commit: string; prepare: string } | null };
    supersedes: string | null;
    reason: 'period_close' | 'correction';
    issuedAt: string;
  };
}

export type StatementEvent = StatementLinesRecorded | StatementIssued;
