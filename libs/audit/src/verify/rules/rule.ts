import type { RecordedEvent } from '@cx/event-store';
import type { Checker } from '../checker';

// A business rule verify checks. Each rule is a factory for a fresh Checker per verification; the checker sees the
// events of every source (distributed mode: each service its own store), one source after the other, and must
// ignore event types and streams it does not know (newer services, other services).
//
// A rule that judges against another service's history (floors judge trades by the guidance history) names that
// history's stream prefixes: with several sources, verify reads those streams from all of them first and hands
// them to `create`, so the order of --store flags does not matter. With one source the history arrives in the
// main pass, ahead of the decisions that used it.

export interface RuleContext {
  /** Events of `historyStreamPrefixes` from every source, in source order then $all order (several sources only). */
  history: readonly RecordedEvent[];
}

export interface AuditRule {
  readonly name: string;
  readonly historyStreamPrefixes?: readonly string[];
  create(ctx: RuleContext): Checker;
}
