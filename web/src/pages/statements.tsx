import { useState } from 'react';
import { ApiError, getAll, getJson, type Me, request, asApiError } from '../api';
import { useI18n } from '../i18n';
import type { Account, LedgerView, Statement, Transfer } from '../types';
import { DataTable, Empty, ErrorBox, Section, Show, useAsync } from '../ui';

// Statements: pick an account and a period from its statement list, read the statement (lines, shortfalls,
// reading differences, totals, unit costs; on a version reissued by a correction, its notes as adjustments and the
// totals and closing balance that count them), download it as CSV or JSON exactly as the API serves it; and the
// account's ledger balances and transfers.

const query = (path: string): URLSearchParams => new URLSearchParams(path.split('?')[1] ?? '');

/** Saves what the API answered, byte for byte: the CSV is the server's, not a re-rendering. */
const download = async (path: string, accept: string, filename: string): Promise<void> => {
  const res = await request('GET', path, { accept });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

export const StatementsPage = ({ me, path, go }: { me: Me; path: string; go: (to: string) => void }) => {
  const { t } = useI18n();
  const [accounts, reload] = useAsync(() => getAll<Account>('/v1/accounts'), []);
  const q = query(path);
  const account = q.get('account') ?? (accounts.state === 'ready' ? (accounts.value[0]?.accountId ?? '') : '');
  const period = q.get('period');
  const pick = (a: string, p: string | null) =>
    go(`/statements?account=${encodeURIComponent(a)}${p === null ? '' : `&period=${encodeURIComponent(p)}`}`);
  return (
    <div className="statements">
      <Show data={accounts} retry={reload} isEmpty={(x) => x.length === 0}>
        {(list) => (
          <div className="filters">
            <label>
              {t('statements.account')}{' '}
              <select value={account} onChange={(e) => pick(e.target.value, null)} data-testid="statement-account">
                {list.map((a) => (
                  <option key={a.accountId} value={a.accountId}>
                    {a.accountId} · {a.legalName}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
      </Show>
      {account !== '' && (
        <div className="statement-grid">
          <StatementList me={me} account={account} period={period} pick={(p) => pick(account, p)} />
          {period !== null && <StatementView key={`${account}/${period}`} account={account} period={period} />}
          <Ledger account={account} />
        </div>
      )}
    </div>
  );
};

const StatementList = ({
  account,
  period,
  pick,
}: {
  me: Me;
  account: string;
  period: string | null;
  pick: (p: string) => void;
}) => {
  const i18n = useI18n();
  const { t } = i18n;
  const [list, reload] = useAsync(() => getAll<Statement>(`/v1/statements/${encodeURIComponent(account)}`), [account]);
  return (
    <Section title={t('statements.list')} id="statement-list">
      <Show data={list} retry={reload}>
        {(items) => (
          <DataTable
            rows={[...items].reverse()}
            rowKey={(s) => s.statementId}
            rowProps={(s) => ({ className: s.period === period ? 'selected' : undefined })}
            columns={[
              {
                header: t('statements.period'),
                cell: (s) => (
                  <>
                    {s.period} (v{s.version})
                  </>
                ),
              },
              { header: t('statements.closing'), num: true, cell: (s) => i18n.money(s.closingBalance, s.currency) },
              { header: t('statements.net'), num: true, cell: (s) => i18n.money(s.totals.net, s.currency) },
              {
                header: <span className="sr-only">{t('statements.open')}</span>,
                cell: (s) => (
                  <button
                    type="button"
                    onClick={() => pick(s.period)}
                    aria-label={`${t('statements.open')} ${s.period}`}
                  >
                    {t('statements.open')}
                  </button>
                ),
              },
            ]}
          />
        )}
      </Show>
    </Section>
  );
};

export const StatementView = ({ account, period }: { account: string; period: string }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const path = `/v1/statements/${encodeURIComponent(account)}/${encodeURIComponent(period)}`;
  const [data, reload] = useAsync(() => getJson<Statement>(path), [path]);
  const [error, setError] = useState<ApiError | null>(null);
  const save = (accept: string, ext: string) => {
    setError(null);
    download(path, accept, `statement-${account}-${period}.${ext}`).catch((e: unknown) => setError(asApiError(e)));
  };
  return (
    <Section title={`${account} · ${period}`} id="statement">
      <Show data={data} retry={reload}>
        {(s) => {
          const m = (v: string) => i18n.money(v, s.currency);
          const total = (label: string, v: string | null, id: string, keep = false) => (
            <>
              <dt>{label}</dt>
              <dd className="num" data-testid={`total-${id}`}>
                {v === null ? '–' : keep ? i18n.money(v, s.currency, { keepDigits: true }) : m(v)}
              </dd>
            </>
          );
          return (
            <>
              <div className="actions">
                <button type="button" onClick={() => save('text/csv', 'csv')} data-testid="download-csv">
                  {t('statements.csv')}
                </button>
                <button type="button" onClick={() => save('application/json', 'json')} data-testid="download-json">
                  {t('statements.json')}
                </button>
              </div>
              {error !== null && <ErrorBox error={error} />}
              <dl className="totals" aria-label={t('statements.totals')}>
                {total(t('statements.opening'), s.openingBalance, 'opening')}
                {total(t('statements.charges'), s.totals.charges, 'charges')}
                {total(t('statements.fees'), s.totals.fees, 'fees')}
                {total(t('statements.deposits'), s.totals.deposits, 'deposits')}
                {total(t('statements.withdrawals'), s.totals.withdrawals, 'withdrawals')}
                {total(t('statements.notes'), s.totals.notes, 'notes')}
                {total(t('statements.net'), s.totals.net, 'net')}
                {total(t('statements.closing'), s.closingBalance, 'closing')}
                {s.adjustedTotals !== undefined && (
                  <>
                    {total(t('statements.adjustments'), s.adjustedTotals.adjustments, 'adjustments')}
                    {total(t('statements.adjustedNet'), s.adjustedTotals.net, 'adjusted-net')}
                    {total(t('statements.adjustedClosing'), s.adjustedTotals.closingBalance, 'adjusted-closing')}
                  </>
                )}
                <dt>{t('statements.hours')}</dt>
                <dd className="num">{i18n.num(s.totals.acceleratorHours)}</dd>
                {total(t('statements.perHour'), s.totals.costPerAcceleratorHour, 'per-hour', true)}
                {total(t('statements.perKTokens'), s.totals.costPerThousandTokens, 'per-ktokens', true)}
              </dl>
              <h3>{t('statements.lines')}</h3>
              <DataTable
                testId="statement-lines"
                rows={s.lines ?? []}
                rowKey={(l, i) => `${l.ref ?? ''}-${i}`}
                columns={[
                  {
                    header: t('statements.kind'),
                    cell: (l) => (
                      <>
                        {l.kind}
                        {l.role === null ? '' : ` · ${l.role}`}
                      </>
                    ),
                  },
                  { header: t('market.instrument'), cell: (l) => l.instrument ?? l.ref },
                  {
                    header: t('statements.quantity'),
                    num: true,
                    cell: (l) => (l.quantity === null ? '' : `${i18n.num(l.quantity)} ${l.unit ?? ''}`),
                  },
                  {
                    header: t('statements.unitPrice'),
                    num: true,
                    cell: (l) =>
                      l.unitPrice === null ? '' : i18n.money(l.unitPrice, s.currency, { keepDigits: true }),
                  },
                  { header: t('statements.amount'), num: true, cell: (l) => m(l.amount) },
                  {
                    header: t('statements.fee'),
                    num: true,
                    cell: (l) => (l.fee === '' ? '' : m(l.fee)),
                  },
                ]}
              />
              {s.adjustments !== undefined && (
                <>
                  <h3>{t('statements.adjustments')}</h3>
                  <DataTable
                    testId="statement-adjustments"
                    label={t('statements.adjustments')}
                    rows={s.adjustments}
                    rowKey={(a) => a.noteId}
                    columns={[
                      { header: t('statements.note'), cell: (a) => a.noteId },
                      {
                        header: t('statements.kind'),
                        cell: (a) =>
                          a.kind === 'credit_note' ? t('statements.creditNote') : t('statements.debitNote'),
                      },
                      { header: t('guidance.reason'), cell: (a) => a.reason },
                      { header: t('statements.bookedOn'), cell: (a) => a.bookedOn },
                      { header: t('statements.amount'), num: true, cell: (a) => m(a.amount) },
                    ]}
                  />
                </>
              )}
              <h3>{t('statements.shortfalls')}</h3>
              {s.shortfalls.length === 0 ? (
                <Empty />
              ) : (
                <ul>
                  {s.shortfalls.map((x) => (
                    <li key={x.allocationId}>
                      {x.allocationId}: {i18n.num(x.deliveredHours)} / {i18n.num(x.allocatedHours)} h ·{' '}
                      {i18n.num(x.shortfallHours)} h · {m(x.value)}
                    </li>
                  ))}
                </ul>
              )}
              <h3>{t('statements.differences')}</h3>
              {s.readingDifferences.length === 0 ? (
                <Empty />
              ) : (
                <ul>
                  {s.readingDifferences.map((x) => (
                    <li key={x.allocationId}>
                      {x.allocationId}: {i18n.num(x.providerReportedHours)} h / {i18n.num(x.buyerReportedHours)} h (
                      {i18n.num(x.differenceHours)} h)
                    </li>
                  ))}
                </ul>
              )}
              <p className="hint">
                {t('statements.version')} {s.version}
                {s.supersedes === null ? '' : ` (${t('statements.supersedes')} ${s.supersedes})`} ·{' '}
                {t('statements.contentHash')}: <code>{s.contentHash}</code> · {s.guidanceVersions.join(', ')} ·{' '}
                {i18n.time(s.issuedAt)}
              </p>
            </>
          );
        }}
      </Show>
    </Section>
  );
};

const Ledger = ({ account }: { account: string }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const enc = encodeURIComponent(account);
  const [view, reloadView] = useAsync(() => getJson<LedgerView>(`/v1/ledger/accounts/${enc}`), [enc]);
  const [transfers, reloadTransfers] = useAsync(() => getAll<Transfer>(`/v1/ledger/transfers?account=${enc}`), [enc]);
  return (
    <Section title={`${t('ledger.title')} · ${account}`} id="ledger">
      <Show data={view} retry={reloadView}>
        {(v) => (
          <>
            <p>
              {t('ledger.available')}:{' '}
              <strong data-testid="ledger-available">{i18n.money(v.available, v.currency)}</strong>
            </p>
            <DataTable
              rows={Object.entries(v.balances)}
              rowKey={([k]) => k}
              columns={[
                { header: t('ledger.balances'), cell: ([k]) => k },
                { header: t('ledger.posted'), num: true, cell: ([, b]) => i18n.money(b.posted, v.currency) },
                { header: t('ledger.pending'), num: true, cell: ([, b]) => i18n.money(b.pending, v.currency) },
              ]}
            />
          </>
        )}
      </Show>
      <h3>{t('ledger.transfers')}</h3>
      <Show data={transfers} retry={reloadTransfers}>
        {(list) => (
          <DataTable
            rows={[...list].reverse()}
            rowKey={(x, i) => `${x.transferId}-${x.kind}-${i}`}
            columns={[
              { header: t('market.time'), cell: (x) => i18n.time(x.at) },
              { header: t('ledger.code'), cell: (x) => x.code },
              { header: t('statements.kind'), cell: (x) => x.kind },
              { header: t('order.status'), cell: (x) => x.status },
              { header: t('statements.amount'), num: true, cell: (x) => i18n.money(x.amount, x.currency) },
            ]}
          />
        )}
      </Show>
    </Section>
  );
};
