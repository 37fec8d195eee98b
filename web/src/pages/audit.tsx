import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, getJson, getNdjson, type Me, send, asApiError } from '../api';
import { useI18n } from '../i18n';
import type { AuditEvent, Verification } from '../types';
import { DataTable, Empty, ErrorBox, Field, Loading, Section } from '../ui';

// Audit: server-side verify (auditors) with live progress, the verdict and each violation linked to its event in
// the explorer; the explorer reads the NDJSON event history filtered by stream, type, correlation id and time.

const POLL_MS = 400;
const MAX_EVENTS = 200;

interface Filter {
  stream: string;
  type: string;
  correlationId: string;
  from: string;
  to: string;
  after: string;
}

const EMPTY: Filter = { stream: '', type: '', correlationId: '', from: '', to: '', after: '' };

export const AuditPage = ({ me }: { me: Me }) => {
  const [filter, setFilter] = useState<Filter>(EMPTY);
  return (
    <div className="audit">
      <Verify me={me} onShow={(f) => setFilter({ ...EMPTY, ...f })} />
      <Explorer filter={filter} setFilter={setFilter} />
    </div>
  );
};

const Verify = ({ me, onShow }: { me: Me; onShow: (f: Partial<Filter>) => void }) => {
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
                    onClick={(e) => {
                      e.preventDefault();
                      onShow({ stream: v.stream });
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

const Explorer = ({ filter, setFilter }: { filter: Filter; setFilter: (f: Filter) => void }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const [draft, setDraft] = useState<Filter>(filter);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);

  const search = async (f: Filter) => {
    setLoading(true);
    setError(null);
    try {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(f)) if (v.trim() !== '') params.set(k, v.trim());
      setEvents(await getNdjson<AuditEvent>(`/v1/audit/events?${params.toString()}`, MAX_EVENTS));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    setDraft(filter);
    if (Object.values(filter).some((v) => v !== '')) void search(filter);
  }, [filter]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft);
    void search(draft);
  };
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
          rowProps={(ev) => ({ id: `event-${ev.position}` })}
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
                    onClick={() => setFilter({ ...EMPTY, correlationId: ev.metadata.correlationId ?? '' })}
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
    </Section>
  );
};
