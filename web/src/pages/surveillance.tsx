import { getAll } from '../api';
import { useI18n } from '../i18n';
import type { Alert, Halt } from '../types';
import { Section, Show, useAsync } from '../ui';

// Surveillance (regulators, auditors, admin): the spiral alerts and every halt, active or resumed. Halts are also
// drawn on every market's price chart, for everyone.

export const SurveillancePage = () => {
  const i18n = useI18n();
  const { t } = i18n;
  const [alerts, reloadAlerts] = useAsync(() => getAll<Alert>('/v1/alerts'), []);
  const [halts, reloadHalts] = useAsync(() => getAll<Halt>('/v1/market-status?state=all'), []);
  return (
    <div className="surveillance">
      <Section title={t('surveillance.alerts')} id="alerts">
        <Show data={alerts} retry={reloadAlerts} isEmpty={(x) => x.length === 0}>
          {(list) => (
            <div className="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('surveillance.raisedAt')}</th>
                    <th scope="col">{t('surveillance.kind')}</th>
                    <th scope="col">{t('market.instrument')}</th>
                    <th scope="col" className="num">
                      {t('market.price')}
                    </th>
                    <th scope="col" className="num">
                      {t('market.floor')}
                    </th>
                    <th scope="col">{t('surveillance.detail')}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...list].reverse().map((a) => (
                    <tr key={a.alertId}>
                      <td>{i18n.time(a.raisedAt)}</td>
                      <td>{a.rule}</td>
                      <td>{a.instrumentId ?? a.resourceClass}</td>
                      <td className="num">{a.price === null ? '–' : i18n.money(a.price, a.currency)}</td>
                      <td className="num">{a.floor === null ? '–' : i18n.money(a.floor, a.currency)}</td>
                      <td>{a.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Show>
      </Section>
      <Section title={t('surveillance.halts')} id="halts">
        <Show data={halts} retry={reloadHalts} isEmpty={(x) => x.length === 0}>
          {(list) => (
            <div className="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('surveillance.raisedAt')}</th>
                    <th scope="col">{t('market.status')}</th>
                    <th scope="col">{t('surveillance.kind')}</th>
                    <th scope="col">{t('market.instrument')}</th>
                    <th scope="col">{t('guidance.reason')}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...list].reverse().map((h) => (
                    <tr key={h.haltId}>
                      <td>{i18n.time(h.haltedAt)}</td>
                      <td>
                        {h.status}
                        {h.resumed === null ? '' : ` · ${i18n.time(h.resumed.at)}`}
                      </td>
                      <td>{h.origin}</td>
                      <td>{h.scope.instrumentId ?? h.scope.resourceClass ?? '*'}</td>
                      <td>{h.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Show>
      </Section>
    </div>
  );
};
