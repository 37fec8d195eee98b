import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, getJson, getNdjson, type Me, send, asApiError } from '../api';
import { useI18n } from '../i18n';
import type { AuditEvent, Verification, Violation } from '../types';
import { DataTable, Empty, ErrorBox, Field, Loading, Section } from '../ui';

// Audit: server-side verify (auditors) with live progress, the verdict and each violation linked to its event in
// the explorer; the explorer reads the NDJSON event history filtered by stream, type, correlation id and time, a
// page at a time, resuming with the API's `after` cursor.

const POLL_MS = 400;
/** Events per page of the explorer; "More" reads the next page strictly after the last position shown. */
export const PAGE_EVENTS = 200;

interface Filter {
  stream: string;
  type: string;
  correlationId: string;
  from: string;
  to: string;
  after: string;
}

const EMPTY: Filter = { stream: '', type: '', correlationId: '', from: '', to: '', after: '' };

/**
 * The `after` cursor that makes a position the first one read: the API reads strictly after `after`, and positions
 * ("commit/prepare", or "commit" for commit = prepare) compare by commit then prepare. Null for the very first
 * position (read from the start) or a position the API would not have written.
 */
export const positionBefore = (position: string): string | null => {
  const m = /^(\d{1,20})(?:\/(\d{1,20}))?$/.exec(position);
  if (m === null) return null;
  const commit = BigInt(m[1] as string);
  const prepare = m[2] === undefined ? commit : BigInt(m[2]);
  if (prepare > 0n) return `${commit}/${prepare - 1n}`;
  return commit > 0n ? `${commit - 1n}` : null;
};

/** What the explorer searches, and the event to single out in the answer (a violation's), if any. */
interface Query {
  filter: Filter;
  focus: string | null;
}

export const AuditPage = ({ me }: { me: Me }) => {
  const [query, setQuery] = useState<Query | null>(null);
  return (
    <div className="audit">
      <Verify
        me={me}
        onShow={(v) =>
          // The violation's own stream, read from its position on: its event is the first row, singled out.
          setQuery({
            filter: { ...EMPTY, stream: v.stream, after: positionBefore(v.position) ?? '' },
            focus: v.position,
          })
        }
      />
      <Explorer query={query} setQuery={setQuery} />
    </div>
  );
};

const Verify = ({ me, onShow }: { me: Me; onShow: (v: Violation) => void }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const [run, setRun] = useState<Verification | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    if (run === null || run.status !== 'running') return;
    const timer = setTimeout(() => {
      getJson<Verification>(`/v1/audit/verifications/${run.verificationId}`).then(setRun, (e: unknown) =>
        setError(asApiError(e)),
      );
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [run]);

  if (me.role !== 'auditor') {
    return (
      <Section title={t('audit.verify')} id="verify">
        <Empty>{t('audit.notAllowed')}</Empty>
      </Section>
    );
  }
  const start = async () => {
    setError(null);
    try {
      setRun(await send<Verification>('POST', '/v1/audit/verifications'));
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const running = run?.status === 'running';
  const p = run?.progress;
  return (
    <Section title={t('audit.verify')} id="verify">
      <button type="button" onClick={() => void start()} disabled={running}>
        {t('audit.run')}
      </button>
      {error !== null && <ErrorBox error={error} />}
      {run !== null && p !== undefined && (
        <div className="verification">
          <label htmlFor="verify-progress">{t('audit.progress')}</label>{' '}
          <progress
            id="verify-progress"
            max={p.totalEvents ?? undefined}
            value={p.totalEvents === null ? undefined : p.eventsChecked}
          />{' '}
          <span>
            {t('audit.eventsChecked')}: {i18n.num(String(p.eventsChecked))}
            {p.totalEvents === null ? '' : ` / ${i18n.num(String(p.totalEvents))}`}
          </span>
          {running && <Loading />}
          {!running && (
            <p className={`verdict ${run.status}`} data-testid="verdict" role="status">
              {t('audit.verdict')}: <strong>{run.status === 'clean' ? t('audit.clean') : run.status}</strong>
              {run.report !== null && ` · ${t('audit.violations')}: ${run.report.violationCount}`}
              {run.error !== null && ` · ${run.error}`}
            </p>
          )}
          {run.report !== null && run.report.violations.length > 0 && (
            <ol className="violations" data-testid="violations">
              {run.report.violations.map((v, i) => (
                <li key={`${v.position}-${i}`}>
                  <code>{v.check}</code> {v.message} ·{' '}
                  <a
                    href={`#event-${v.position}`}
                    data-testid={`violation-${i}`}
                    onClick={(e) => {
                      e.preventDefault();
                      onShow(v);
                    }}
                  >
                    {v.stream}@{v.revision} ({v.position})
                  </a>
                </li>
              ))}
            </ol>
          )}
          {run.report !== null && run.report.warnings.length > 0 && (
            <ul className="hint">
              {run.report.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Section>
  );
};

const Explorer = ({ query, setQuery }: { query: Query | null; setQuery: (q: Query) => void }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const filter = query?.filter ?? EMPTY;
  const focus = query?.focus ?? null;
  const [draft, setDraft] = useState<Filter>(filter);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  /** Whether the last page came back full, so more may follow it. */
  const [more, setMore] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);

  /** Reads a page of `f`; `after` (the last position shown) appends the page to the rows already shown. */
  const search = async (f: Filter, after?: string) => {
    setLoading(true);
    setError(null);
    try {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...f, ...(after === undefined ? {} : { after }) })) {
        if (v.trim() !== '') params.set(k, v.trim());
      }
      const page = await getNdjson<AuditEvent>(`/v1/audit/events?${params.toString()}`, PAGE_EVENTS);
      setEvents((shown) => (after === undefined || shown === null ? page : [...shown, ...page]));
      setMore(page.length === PAGE_EVENTS);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    // Nothing is read until a search is asked for: the whole history is not a useful first page.
    if (query === null) return;
    setDraft(query.filter);
    void search(query.filter);
  }, [query]);

  // The singled-out event is scrolled into view once its row is there.
  useEffect(() => {
    if (focus === null || events === null) return;
    document.getElementById(`event-${focus}`)?.scrollIntoView?.({ block: 'center' });
  }, [focus, events]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery({ filter: draft, focus: null });
  };
  const last = events?.[events.length - 1];
  const input = (name: keyof Filter, label: string, placeholder = '') => (
    <Field id={`audit-${name}`} label={label}>
      <input
        id={`audit-${name}`}
        value={draft[name]}
        placeholder={placeholder}
        onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
      />
    </Field>
  );
  return (
    <Section title={t('audit.explorer')} id="explorer">
      <form className="explorer-form" onSubmit={submit}>
        {input('stream', t('audit.stream'), 'book-*')}
        {input('type', t('audit.type'), 'TradeExecuted')}
        {input('correlationId', t('audit.correlationId'))}
        {input('from', t('audit.from'), '2026-03-15T00:00:00Z')}
        {input('to', t('audit.to'), '2026-03-16T00:00:00Z')}
        {input('after', t('audit.after'), '1234/1234')}
        <button type="submit">{t('audit.search')}</button>
      </form>
      {loading && <Loading />}
      {error !== null && <ErrorBox error={error} />}
      {/* While a search runs, rows already found stay; "no events" waits for the answer. */}
      {events !== null && (events.length > 0 || !loading) && (
        <DataTable
          testId="events"
          rows={events}
          rowKey={(ev) => ev.position}
          rowProps={(ev) =>
            ev.position === focus
              ? { id: `event-${ev.position}`, className: 'selected', 'aria-current': true }
              : { id: `event-${ev.position}` }
          }
          columns={[
            { header: t('audit.position'), cell: (ev) => ev.position },
            {
              header: t('audit.stream'),
              cell: (ev) => (
                <>
                  {ev.stream}@{ev.revision}
                </>
              ),
            },
            { header: t('audit.type'), cell: (ev) => ev.type },
            { header: t('audit.recorded'), cell: (ev) => i18n.time(ev.created) },
            {
              header: t('audit.correlationId'),
              cell: (ev) =>
                ev.metadata.correlationId === undefined ? (
                  '–'
                ) : (
                  <button
                    type="button"
                    className="link"
                    onClick={() =>
                      setQuery({ filter: { ...EMPTY, correlationId: ev.metadata.correlationId ?? '' }, focus: null })
                    }
                  >
                    {ev.metadata.correlationId.slice(0, 13)}…
                  </button>
                ),
            },
            {
              header: t('audit.data'),
              cell: (ev) => (
                <details>
                  <summary>JSON</summary>
                  <pre>{JSON.stringify(ev.data, null, 2)}</pre>
                </details>
              ),
            },
          ]}
        />
      )}
      {more && last !== undefined && (
        <button
          type="button"
          onClick={() => void search(filter, last.position)}
          disabled={loading}
          data-testid="events-more"
        >
          {t('audit.more')}
        </button>
      )}
    </Section>
  );
};
