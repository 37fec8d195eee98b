import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { EventStore } from '@cx/event-store';
import { DomainError } from '@cx/shared-kernel';
import type { Progress } from '../verify/progress';
import { type VerifySource, storeSource } from '../verify/sources';
import { type VerifyReport, verifySources } from '../verify/verify';

// POST /v1/audit/verifications: verify run by the server over its own store, in the background, one at a time
// (it reads the whole history; two at once would only halve each other's speed). Progress and the result are kept
// in memory for the most recent runs: a verification is cheap to repeat and proves nothing more for being stored,
// and storing it as an event would change the history it reports on.

export type VerificationStatus = 'running' | 'clean' | 'violations' | 'failed';

export interface VerificationView {
  verificationId: string;
  status: VerificationStatus;
  requestedBy: string;
  startedAt: string;
  finishedAt: string | null;
  progress: { eventsChecked: number; totalEvents: number | null; fraction: number | null };
  /** The verify report (as `cx audit verify --json`), once finished. */
  report: VerifyReport | null;
  /** Why it could not run to the end (status failed). */
  error: string | null;
}

const KEEP = 20;

export class AuditVerifications {
  private readonly runs = new Map<string, VerificationView>();
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly trustedKeys: () => KeyObject[],
    /** The clock port's now (instants shown in the view). */
    private readonly now: () => Date,
  ) {}

  start(requestedBy: string): VerificationView {
    if (this.running !== null) {
      const current = [...this.runs.values()].find((r) => r.status === 'running');
      throw DomainError.conflict(
        'AUDIT.VERIFICATION_RUNNING',
        `verification ${current?.verificationId ?? ''} is still running; poll it, then start another`,
      );
    }
    const view: VerificationView = {
      verificationId: randomUUID(),
      status: 'running',
      requestedBy,
      startedAt: this.now().toISOString(),
      finishedAt: null,
      progress: { eventsChecked: 0, totalEvents: null, fraction: null },
      report: null,
      error: null,
    };
    this.runs.set(view.verificationId, view);
    while (this.runs.size > KEEP) this.runs.delete(this.runs.keys().next().value as string);
    const progress = (total: number | null): Progress => {
      view.progress.totalEvents = total;
      return {
        tick: (count, done) => {
          view.progress.eventsChecked = count;
          view.progress.fraction = total !== null && total > 0 ? Math.min(1, done / total) : null;
        },
        end: () => undefined,
      };
    };
    this.running = verifySources([yielding(storeSource('store', this.store))], {
      trustedKeys: this.trustedKeys(),
      progress: (_s, total) => progress(total),
    })
      .then((report) => {
        view.report = report;
        view.status = report.clean ? 'clean' : 'violations';
        view.progress.eventsChecked = report.eventsChecked;
        view.progress.fraction = 1;
      })
      .catch((e: unknown) => {
        view.status = 'failed';
        view.error = e instanceof Error ? e.message : String(e);
      })
      .finally(() => {
        view.finishedAt = this.now().toISOString();
        this.running = null;
      });
    return view;
  }

  get(id: string): VerificationView {
    const view = this.runs.get(id);
    if (view === undefined) throw DomainError.notFound('AUDIT.VERIFICATION_NOT_FOUND', `no verification ${id}`);
    return view;
  }

  /** Waits for a running verification (shutdown: the store must not close under it). */
  async idle(): Promise<void> {
    await this.running;
  }
}

/**
 * A source that gives the event loop a turn every 1,000 events: the store's reads complete synchronously, so a
 * verification would otherwise hold the process's only thread until it finished and no request would be served.
 */
const yielding = (source: VerifySource): VerifySource => ({
  ...source,
  events: async function* (opts) {
    let n = 0;
    for await (const e of source.events(opts)) {
      yield e;
      if (++n % 1000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  },
});
