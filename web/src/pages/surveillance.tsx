import { getAll } from '../api';
import { useI18n } from '../i18n';
import type { Alert, Halt } from '../types';
import { DataTable, Section, Show, useAsync } from '../ui';

// Surveillance (regulators, auditors, admin): the spiral alerts and every halt, active or resumed. Halts are also
// drawn on every market's price chart, for everyone.

export const SurveillancePage = () => {
  const i18n = useI18n();
  const { t } = i18n;
  const [alerts, reloadAlerts] = useAsync(() => getAll<Alert>('/v1/alerts'), []);
  const [halts, reloadHalts] = useAsync(() => getAll<Halt>('/v1/market-status?state=all'), []);
  const money = (v: string | null, currency: string) => (v === null ? '–' : i18n.money(v, currency));
  return (
    <div className="surveillance">
      <Section title={t('surveillance.alerts')} id="alerts">
        <Show data={alerts} retry={reloadAlerts}>
          {(list) => (
            <DataTable
              rows={[...list].reverse()}
              rowKey={(a) => a.alertId}
              columns={[
                { header: t('surveillance.raisedAt'), cell: (a) => i18n.time(a.raisedAt) },
                { header: t('surveillance.kind'), cell: (a) => a.rule },
                { header: t('market.instrument'), cell: (a) => a.instrumentId ?? a.resourceClass },
                { header: t('market.price'), num: true, cell: (a) => money(a.price, a.currency) },
                { header: t('market.floor'), num: true, cell: (a) => money(a.floor, a.currency) },
                { header: t('surveillance.detail'), cell: (a) => a.message },
              ]}
            />
          )}
        </Show>
      </Section>
      <Section title={t('surveillance.halts')} id="halts">
        <Show data={halts} retry={reloadHalts}>
          {(list) => (
            <DataTable
              rows={[...list].reverse()}
              rowKey={(h) => h.haltId}
              columns={[
                { header: t('surveillance.raisedAt'), cell: (h) => i18n.time(h.haltedAt) },
                {
                  header: t('market.status'),
                  cell: (h) => (
                    <>
                      {h.status}
                      {h.resumed === null ? '' : ` · ${i18n.time(h.resumed.at)}`}
                    </>
                  ),
                },
                { header: t('surveillance.kind'), cell: (h) => h.origin },
                {
                  header: t('market.instrument'),
                  cell: (h) => h.scope.instrumentId ?? h.scope.resourceClass ?? '*',
                },
                { header: t('guidance.reason'), cell: (h) => h.reason },
              ]}
            />
          )}
        </Show>
      </Section>
    </div>
  );
};
