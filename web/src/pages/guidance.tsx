import { type FormEvent, useState } from 'react';
import { ApiError, getAll, getJson, type Me, send, asApiError } from '../api';
import { bandAt } from '../band-steps';
import { useI18n } from '../i18n';
import { DEFAULT_RESOURCE_CLASS, ResourceClassFilter } from '../resource-class-filter';
import type { BandHistoryItem, GuidanceAt, Region } from '../types';
import { Empty, Field, InlineError, Section, Show, useAsync } from '../ui';

// Guidance: the bands in force per region for a resource class (resolved from the history at the server's now,
// by the same rule every service uses), the full version history as a timeline, and for regulators the form that
// issues, amends and withdraws bands.

interface GuidanceData {
  history: BandHistoryItem[];
  regions: Region[];
  now: string;
}

const load = async (rc: string): Promise<GuidanceData> => {
  const enc = encodeURIComponent(rc);
  const [history, regions, at] = await Promise.all([
    getAll<BandHistoryItem>(`/v1/guidance/${enc}/history`),
    getAll<Region>('/v1/regions'),
    getJson<GuidanceAt>(`/v1/guidance/${enc}`),
  ]);
  return { history, regions, now: at.at };
};

export const GuidancePage = ({ me }: { me: Me }) => {
  const [rc, setRc] = useState(DEFAULT_RESOURCE_CLASS);
  const [data, reload] = useAsync(() => load(rc), [rc]);
  return (
    <div className="guidance">
      <ResourceClassFilter value={rc} onChange={setRc} testId="guidance-class" />
      <Show data={data} retry={reload}>
        {(d) => (
          <>
            <InForce rc={rc} d={d} />
            <History d={d} />
            {me.role === 'regulator' && <BandForm key={rc} rc={rc} d={d} onDone={reload} />}
          </>
        )}
      </Show>
    </div>
  );
};

const InForce = ({ rc, d }: { rc: string; d: GuidanceData }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const now = Date.parse(d.now);
  const rows = [null, ...d.regions.map((r) => r.regionId)].map((region) => ({
    region,
    band: bandAt(d.history, rc, region, now),
  }));
  return (
    <Section title={`${t('guidance.inForce')} · ${i18n.time(d.now)}`} id="bands-in-force">
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('guidance.region')}</th>
              <th scope="col">{t('guidance.version')}</th>
              <th scope="col" className="num">
                {t('market.floor')}
              </th>
              <th scope="col" className="num">
                {t('market.ceiling')}
              </th>
              <th scope="col" className="num">
                {t('market.reference')}
              </th>
              <th scope="col">{t('guidance.effectiveFrom')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ region, band }) => (
              <tr key={region ?? 'national'}>
                <td>{region ?? t('guidance.national')}</td>
                {band === null ? (
                  <td colSpan={5}>{t('guidance.none')}</td>
                ) : (
                  <>
                    <td>{band.versionId}</td>
                    <td className="num">{i18n.money(band.floorPerAcceleratorHour, band.currency)}</td>
                    <td className="num">
                      {band.ceilingPerAcceleratorHour === null
                        ? '–'
                        : i18n.money(band.ceilingPerAcceleratorHour, band.currency)}
                    </td>
                    <td className="num">
                      {band.referencePrice === null ? '–' : i18n.money(band.referencePrice, band.currency)}
                    </td>
                    <td>{i18n.time(band.effectiveFrom)}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
};

const History = ({ d }: { d: GuidanceData }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const items = [...d.history].sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom) || b.version - a.version);
  return (
    <Section title={t('guidance.history')} id="band-history">
      {items.length === 0 ? (
        <Empty />
      ) : (
        <ol className="timeline" data-testid="band-timeline">
          {items.map((v) => (
            <li key={v.versionId} className={`kind-${v.kind}`} data-testid={`version-${v.versionId}`}>
              <div className="when">{i18n.time(v.effectiveFrom)}</div>
              <div className="what">
                <strong>{v.versionId}</strong> · {v.kind} · {v.region ?? t('guidance.national')}
                {v.kind !== 'withdrawn' && (
                  <>
                    {' '}
                    · {t('market.floor')} {i18n.money(v.floorPerAcceleratorHour, v.currency)}
                    {v.ceilingPerAcceleratorHour !== null &&
                      ` · ${t('market.ceiling')} ${i18n.money(v.ceilingPerAcceleratorHour, v.currency)}`}
                    {v.referencePrice !== null &&
                      ` · ${t('market.reference')} ${i18n.money(v.referencePrice, v.currency)}`}
                  </>
                )}
                {v.effectiveTo !== null && ` · ${t('guidance.effectiveTo')} ${i18n.time(v.effectiveTo)}`}
                <div className="why">
                  {t('guidance.reason')}: {v.reason} · {t('guidance.documentRef')}: {v.documentRef} ·{' '}
                  {v.issuedBy.role ?? ''} {i18n.time(v.issuedAt)}
                </div>
              </div>
            </li>
          ))}
        </ol>
      )}
    </Section>
  );
};

type Action = 'issue' | 'amend' | 'withdraw';

const BandForm = ({ rc, d, onDone }: { rc: string; d: GuidanceData; onDone: () => void }) => {
  const { t } = useI18n();
  const bands = [...new Set(d.history.map((v) => v.bandId))];
  const [action, setAction] = useState<Action>('issue');
  const [picked, setBandId] = useState(bands[0] ?? '');
  // The form stays mounted across the reload after a submit: a band issued since (the first, say) is offered too.
  const bandId = bands.includes(picked) ? picked : (bands[0] ?? '');
  const [region, setRegion] = useState('');
  const [floor, setFloor] = useState('');
  const [ceiling, setCeiling] = useState('');
  const [reference, setReference] = useState('');
  const [effectiveFrom, setEffectiveFrom] = useState('');
  const [reason, setReason] = useState('');
  const [documentRef, setDocumentRef] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const optional = (v: string) => (v.trim() === '' ? undefined : v.trim());
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    try {
      const common = { reason: reason.trim(), documentRef: documentRef.trim() };
      let recorded: BandHistoryItem;
      if (action === 'issue') {
        recorded = await send<BandHistoryItem>('POST', '/v1/guidance', {
          resourceClass: rc,
          region: optional(region) ?? null,
          floorPerAcceleratorHour: floor.trim(),
          ceilingPerAcceleratorHour: optional(ceiling) ?? null,
          referencePrice: optional(reference) ?? null,
          effectiveFrom: effectiveFrom.trim(),
          ...common,
        });
      } else if (action === 'amend') {
        recorded = await send<BandHistoryItem>('POST', `/v1/guidance/${encodeURIComponent(bandId)}/amend`, {
          floorPerAcceleratorHour: optional(floor),
          ceilingPerAcceleratorHour: optional(ceiling),
          referencePrice: optional(reference),
          effectiveFrom: effectiveFrom.trim(),
          ...common,
        });
      } else {
        recorded = await send<BandHistoryItem>('POST', `/v1/guidance/${encodeURIComponent(bandId)}/withdraw`, {
          effectiveAt: optional(effectiveFrom) ?? null,
          ...common,
        });
      }
      setDone(recorded.versionId);
      onDone();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  const fe = (...fields: string[]) => {
    for (const f of fields) {
      const code = error?.fieldCode(f);
      if (code) return code;
    }
    return null;
  };
  const named = [
    'region',
    'floorPerAcceleratorHour',
    'ceilingPerAcceleratorHour',
    'referencePrice',
    'effectiveFrom',
    'effectiveAt',
    'reason',
    'documentRef',
  ];
  const formLevel = error !== null && !error.details.some((x) => named.includes(x.field));
  return (
    <Section title={t('guidance.issue')} id="band-form">
      <form className="band-form" onSubmit={(e) => void submit(e)} noValidate>
        <Field id="band-action" label={t('guidance.action')}>
          <select id="band-action" value={action} onChange={(e) => setAction(e.target.value as Action)}>
            <option value="issue">{t('guidance.issue')}</option>
            <option value="amend" disabled={bands.length === 0}>
              {t('guidance.amend')}
            </option>
            <option value="withdraw" disabled={bands.length === 0}>
              {t('guidance.withdraw')}
            </option>
          </select>
        </Field>
        {action === 'issue' ? (
          <Field id="band-region" label={t('guidance.region')} error={fe('region')}>
            <select id="band-region" value={region} onChange={(e) => setRegion(e.target.value)}>
              <option value="">{t('guidance.national')}</option>
              {d.regions.map((r) => (
                <option key={r.regionId} value={r.regionId}>
                  {r.regionId} · {r.name}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <Field id="band-id" label={t('guidance.band')}>
            <select id="band-id" value={bandId} onChange={(e) => setBandId(e.target.value)}>
              {bands.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </Field>
        )}
        {action !== 'withdraw' && (
          <>
            <Field id="band-floor" label={t('market.floor')} error={fe('floorPerAcceleratorHour')}>
              <input id="band-floor" inputMode="decimal" value={floor} onChange={(e) => setFloor(e.target.value)} />
            </Field>
            <Field id="band-ceiling" label={t('market.ceiling')} error={fe('ceilingPerAcceleratorHour')}>
              <input
                id="band-ceiling"
                inputMode="decimal"
                value={ceiling}
                onChange={(e) => setCeiling(e.target.value)}
              />
            </Field>
            <Field id="band-reference" label={t('market.reference')} error={fe('referencePrice')}>
              <input
                id="band-reference"
                inputMode="decimal"
                value={reference}
                onChange={(e) => setReference(e.target.value)}
              />
            </Field>
          </>
        )}
        <Field
          id="band-effective"
          label={`${t('guidance.effectiveFrom')} (ISO 8601)`}
          error={fe('effectiveFrom', 'effectiveAt')}
        >
          <input
            id="band-effective"
            placeholder="2026-03-20T00:00:00Z"
            value={effectiveFrom}
            onChange={(e) => setEffectiveFrom(e.target.value)}
          />
        </Field>
        <Field id="band-reason" label={t('guidance.reason')} error={fe('reason')}>
          <input id="band-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <Field id="band-document" label={t('guidance.documentRef')} error={fe('documentRef')}>
          <input id="band-document" value={documentRef} onChange={(e) => setDocumentRef(e.target.value)} />
        </Field>
        <button type="submit">{t('guidance.submit')}</button>
        {formLevel && error !== null && <InlineError error={error} testId="band-error" />}
        {done !== null && (
          <p className="ok" role="status" data-testid="band-done">
            {t('guidance.done')} {done}
          </p>
        )}
      </form>
    </Section>
  );
};
