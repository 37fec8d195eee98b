import { type FormEvent, useMemo, useState } from 'react';
import { ApiError, getAll, getJson, type Me, send, asApiError } from '../api';
import { type BandStep, bandSteps, stepPoints } from '../band-steps';
import { Chart, type ChartOption } from '../charts';
import { chartValue } from '../format';
import { type I18n, useI18n } from '../i18n';
import { DEFAULT_RESOURCE_CLASS, ResourceClassFilter } from '../resource-class-filter';
import type {
  Alert,
  Allocation,
  BandHistoryItem,
  Depth,
  GuidanceAt,
  Halt,
  IndexValue,
  Instrument,
  Order,
  Trade,
} from '../types';
import { DataTable, Empty, Field, InlineError, Section, Show, useAsync } from '../ui';

// Market: instruments with best bid/ask and last; per instrument the depth chart, the tape, the price chart with
// the stepped band in force and the reference index, halts and (for regulators and auditors) alerts; traders
// place and cancel orders and see their orders and allocations.

const HOUR_MS = 3_600_000;

const clientOrderId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
};

const sees = (me: Me, ...roles: string[]) => roles.includes(me.role);

export const MarketPage = ({ me, path, go }: { me: Me; path: string; go: (to: string) => void }) => {
  const { t } = useI18n();
  const selected = decodeURIComponent(path.split('?')[0]!.replace(/^\/market\/?/, ''));
  return (
    <div className="market">
      <Instruments selected={selected} go={go} />
      {selected === '' ? (
        <Empty>{t('market.select')}</Empty>
      ) : (
        <InstrumentDetail key={selected} me={me} instrumentId={selected} />
      )}
    </div>
  );
};

const Instruments = ({ selected, go }: { selected: string; go: (to: string) => void }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const [rc, setRc] = useState(DEFAULT_RESOURCE_CLASS);
  const [instruments, reload] = useAsync(() => getAll<Instrument>('/v1/instruments'), []);
  const px = (v: string | null, currency: string) => (v === null ? '–' : i18n.money(v, currency));
  return (
    <Section title={t('market.instruments')} id="instruments">
      <ResourceClassFilter value={rc} onChange={setRc} testId="resource-class" />
      <Show data={instruments} retry={reload}>
        {(all) => (
          <DataTable
            rows={all
              .filter((i) => i.resourceClass === rc)
              .sort((a, b) => b.deliveryDay.localeCompare(a.deliveryDay) || a.region.localeCompare(b.region))}
            rowKey={(i) => i.instrumentId}
            rowProps={(i) => ({ className: i.instrumentId === selected ? 'selected' : undefined })}
            columns={[
              {
                header: t('market.instrument'),
                cell: (i) => (
                  <a
                    href={`/market/${encodeURIComponent(i.instrumentId)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      go(`/market/${encodeURIComponent(i.instrumentId)}`);
                    }}
                  >
                    {i.region} · {i.deliveryDay}
                  </a>
                ),
              },
              { header: t('market.status'), cell: (i) => i.status },
              { header: t('market.bestBid'), num: true, cell: (i) => px(i.bestBid, i.currency) },
              { header: t('market.bestAsk'), num: true, cell: (i) => px(i.bestAsk, i.currency) },
              { header: t('market.last'), num: true, cell: (i) => px(i.lastPrice, i.currency) },
              { header: t('market.floor'), num: true, cell: (i) => px(i.floor, i.currency) },
            ]}
          />
        )}
      </Show>
    </Section>
  );
};

interface MarketData {
  instrument: Instrument;
  depth: Depth;
  trades: Trade[];
  history: BandHistoryItem[];
  now: string;
  index: IndexValue[];
  halts: Halt[];
  alerts: Alert[];
}

const loadMarket = async (me: Me, instrumentId: string): Promise<MarketData> => {
  const enc = encodeURIComponent(instrumentId);
  const [depth, trades, all] = await Promise.all([
    getJson<Depth>(`/v1/market/${enc}/depth?levels=50`),
    getAll<Trade>(`/v1/market/${enc}/trades`),
    getAll<Instrument>('/v1/instruments'),
  ]);
  const instrument = all.find((i) => i.instrumentId === instrumentId);
  if (instrument === undefined) throw new ApiError(404, 'MATCHING.UNKNOWN_INSTRUMENT', instrumentId);
  const rc = encodeURIComponent(instrument.resourceClass);
  const [history, at, halts, alerts] = await Promise.all([
    getAll<BandHistoryItem>(`/v1/guidance/${rc}/history`),
    getJson<GuidanceAt>(`/v1/guidance/${rc}?region=${encodeURIComponent(instrument.region)}`),
    getAll<Halt>('/v1/market-status?state=all'),
    sees(me, 'regulator', 'auditor', 'admin') ? getAll<Alert>('/v1/alerts') : Promise.resolve([]),
  ]);
  const { from, to } = chartRange(trades, history, at.at);
  const index = await getAll<IndexValue>(
    `/v1/index/${rc}?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
  );
  const applies = (scope: Halt['scope']) =>
    (scope.instrumentId === null || scope.instrumentId === instrumentId) &&
    (scope.resourceClass === null || scope.resourceClass === instrument.resourceClass) &&
    (scope.region === null || scope.region === instrument.region);
  return {
    instrument,
    depth,
    trades,
    history,
    now: at.at,
    index,
    halts: halts.filter((h) => applies(h.scope)),
    alerts: alerts.filter((a) => a.resourceClass === instrument.resourceClass),
  };
};

/** From a little before the first trade or band change to the server's now (or the last trade). */
const chartRange = (trades: Trade[], history: BandHistoryItem[], now: string): { from: number; to: number } => {
  const times = [...trades.map((t) => Date.parse(t.executedAt)), ...history.map((h) => Date.parse(h.effectiveFrom))];
  const last = Math.max(Date.parse(now), ...times);
  // Some room after the last change, so a step at the very end is seen as a step.
  const to = last + 12 * HOUR_MS;
  const from = times.length === 0 ? last - 72 * HOUR_MS : Math.min(...times) - 12 * HOUR_MS;
  return { from, to };
};

const priceOption = (d: MarketData, steps: BandStep[], i18n: I18n): ChartOption => {
  const { t } = i18n;
  const { to } = chartRange(d.trades, d.history, d.now);
  const num = (p: [number, string | null]): [number, number | null] => [p[0], chartValue(p[1])];
  const band = (
    name: string,
    pick: (s: BandStep) => string | null,
    color: string,
    type: 'solid' | 'dashed' | 'dotted',
  ) => ({
    name,
    type: 'line',
    data: stepPoints(steps, pick, to).map(num),
    showSymbol: false,
    connectNulls: false,
    lineStyle: { color, type, width: 2 },
    itemStyle: { color },
  });
  const latestIndex = new Map<string, IndexValue>();
  for (const v of d.index) latestIndex.set(v.indexId, v);
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 56, right: 24, top: 40, bottom: 40 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', scale: true, name: d.instrument.currency },
    series: [
      {
        name: t('market.trades'),
        type: 'line',
        data: d.trades.map((tr) => [Date.parse(tr.executedAt), chartValue(tr.price)]),
        symbolSize: 6,
        lineStyle: { color: '#1f5fbf' },
        itemStyle: { color: '#1f5fbf' },
        markLine: {
          symbol: 'none',
          data: d.halts.map((h) => ({
            xAxis: Date.parse(h.haltedAt),
            name: t('market.halt'),
            label: { formatter: t('market.halt') },
            lineStyle: { color: '#b3261e', type: 'solid' },
          })),
        },
      },
      band(t('market.floor'), (s) => s.floor, '#b3261e', 'solid'),
      band(t('market.ceiling'), (s) => s.ceiling, '#8a5a00', 'dashed'),
      band(t('market.reference'), (s) => s.reference, '#5b6b7a', 'dotted'),
      {
        name: t('market.index'),
        type: 'line',
        data: [...latestIndex.values()]
          .sort((a, b) => a.windowStart.localeCompare(b.windowStart))
          .map((v) => [Date.parse(v.publishedAt), chartValue(v.vwap)]),
        lineStyle: { color: '#2e7d32' },
        itemStyle: { color: '#2e7d32' },
        symbol: 'diamond',
      },
      ...(d.alerts.length === 0
        ? []
        : [
            {
              name: t('market.alert'),
              type: 'scatter',
              data: d.alerts.filter((a) => a.price !== null).map((a) => [Date.parse(a.raisedAt), chartValue(a.price)]),
              symbol: 'triangle',
              symbolSize: 12,
              itemStyle: { color: '#e65100' },
            },
          ]),
    ],
  };
};

const depthOption = (depth: Depth, i18n: I18n): ChartOption => {
  const bids = [...depth.bids].reverse();
  const prices = [...bids.map((l) => l.price), ...depth.asks.map((l) => l.price)];
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 40 },
    xAxis: { type: 'category', data: prices.map((p) => i18n.num(p)), name: depth.currency },
    yAxis: { type: 'value', name: i18n.t('market.lots') },
    series: [
      {
        name: i18n.t('market.bids'),
        type: 'bar',
        stack: 'depth',
        data: [...bids.map((l) => l.quantityLots), ...depth.asks.map(() => null)],
        itemStyle: { color: '#2e7d32' },
      },
      {
        name: i18n.t('market.asks'),
        type: 'bar',
        stack: 'depth',
        data: [...bids.map(() => null), ...depth.asks.map((l) => l.quantityLots)],
        itemStyle: { color: '#b3261e' },
      },
    ],
  };
};

const InstrumentDetail = ({ me, instrumentId }: { me: Me; instrumentId: string }) => {
  const i18n = useI18n();
  const [round, setRound] = useState(0);
  const [data, reload] = useAsync(() => loadMarket(me, instrumentId), [instrumentId]);
  const refresh = () => {
    reload();
    setRound((r) => r + 1);
  };
  return (
    <div className="detail">
      <div className="detail-head">
        <h1 className="instrument-title">{instrumentId}</h1>
        <button type="button" onClick={refresh} disabled={data.state === 'loading'}>
          {i18n.t('refresh')}
        </button>
      </div>
      <Show data={data} retry={reload}>
        {(d) => <MarketCharts d={d} />}
      </Show>
      {me.role === 'trader' && data.state === 'ready' && (
        <>
          <OrderForm me={me} instrument={data.value.instrument} onPlaced={refresh} />
          <MyOrders me={me} instrumentId={instrumentId} round={round} onChanged={refresh} />
          <MyAllocations me={me} round={round} />
        </>
      )}
      {data.state === 'ready' && (
        <Tape trades={data.value.trades} currency={data.value.instrument.currency} i18n={i18n} />
      )}
    </div>
  );
};

const MarketCharts = ({ d }: { d: MarketData }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const { from, to } = chartRange(d.trades, d.history, d.now);
  const steps = useMemo(
    () => bandSteps(d.history, d.instrument.resourceClass, d.instrument.region, from, to),
    [d, from, to],
  );
  const price = useMemo(() => priceOption(d, steps, i18n), [d, steps, i18n]);
  const depth = useMemo(() => depthOption(d.depth, i18n), [d, i18n]);
  const cur = d.instrument.currency;
  const level = (l: { price: string; quantityLots: number }) => `${i18n.money(l.price, cur)} × ${l.quantityLots}`;
  return (
    <div className="charts">
      <Section title={t('market.priceChart')} id="price-chart">
        <Chart
          option={price}
          label={t('market.priceChart')}
          testId="price-chart-canvas"
          caption={
            <ul className="band-steps" data-testid="band-caption">
              {steps.map((s) => (
                <li key={s.from}>
                  {i18n.time(new Date(s.from).toISOString())}:{' '}
                  {s.versionId === null
                    ? t('guidance.none')
                    : `${t('market.floor')} ${i18n.money(s.floor!, cur)}` +
                      (s.ceiling === null ? '' : ` · ${t('market.ceiling')} ${i18n.money(s.ceiling, cur)}`) +
                      (s.reference === null ? '' : ` · ${t('market.reference')} ${i18n.money(s.reference, cur)}`) +
                      ` (${s.versionId})`}
                </li>
              ))}
              {d.halts.map((h) => (
                <li key={h.haltId}>
                  {t('market.halt')}: {i18n.time(h.haltedAt)} — {h.reason}
                </li>
              ))}
            </ul>
          }
        />
      </Section>
      <Section title={t('market.depth')} id="depth">
        <Chart
          option={depth}
          label={t('market.depth')}
          testId="depth-chart"
          height={240}
          caption={
            <p data-testid="depth-caption">
              {t('market.bids')}: {d.depth.bids.map(level).join(', ') || '–'} · {t('market.asks')}:{' '}
              {d.depth.asks.map(level).join(', ') || '–'}
            </p>
          }
        />
      </Section>
    </div>
  );
};

const Tape = ({ trades, currency, i18n }: { trades: Trade[]; currency: string; i18n: I18n }) => {
  const { t } = i18n;
  return (
    <Section title={t('market.tape')} id="tape">
      <DataTable
        rows={[...trades].reverse()}
        rowKey={(tr) => tr.tradeId}
        columns={[
          { header: t('market.time'), cell: (tr) => i18n.time(tr.executedAt) },
          { header: t('market.price'), num: true, cell: (tr) => i18n.money(tr.price, currency) },
          { header: t('market.lots'), num: true, cell: (tr) => i18n.num(String(tr.quantityLots)) },
          { header: t('market.side'), cell: (tr) => (tr.aggressorSide === 'buy' ? t('order.buy') : t('order.sell')) },
          { header: t('guidance.version'), cell: (tr) => tr.guidanceVersion ?? '–' },
        ]}
      />
    </Section>
  );
};

const TIFS = ['GTC', 'IOC', 'FOK'];

const OrderForm = ({ me, instrument, onPlaced }: { me: Me; instrument: Instrument; onPlaced: () => void }) => {
  const { t } = useI18n();
  const [account, setAccount] = useState(me.accounts[0] ?? '');
  const [side, setSide] = useState<'buy' | 'sell'>('buy');
  const [price, setPrice] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [tif, setTif] = useState('GTC');
  const [error, setError] = useState<ApiError | null>(null);
  const [placed, setPlaced] = useState<Order | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setPlaced(null);
    try {
      // Lots are whole numbers (a count); the price stays the decimal string the user typed.
      const order = await send<Order>('POST', '/v1/orders', {
        account,
        side,
        instrument: instrument.instrumentId,
        price: price.trim(),
        quantityLots: /^\d+$/.test(quantity.trim()) ? Number(quantity.trim()) : quantity,
        timeInForce: tif,
        clientOrderId: clientOrderId(),
      });
      setPlaced(order);
      onPlaced();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (field: string) => error?.fieldCode(field) ?? null;
  const known = ['account', 'side', 'price', 'quantityLots', 'timeInForce'];
  const formLevel = error !== null && !error.details.some((d) => known.includes(d.field));
  return (
    <Section title={t('order.title')} id="order-form">
      <form className="order-form" onSubmit={(e) => void submit(e)} noValidate>
        <Field id="order-account" label={t('order.account')} error={fieldError('account')}>
          <select id="order-account" value={account} onChange={(e) => setAccount(e.target.value)}>
            {me.accounts.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </Field>
        <Field id="order-side" label={t('order.side')} error={fieldError('side')}>
          <select id="order-side" value={side} onChange={(e) => setSide(e.target.value as 'buy' | 'sell')}>
            <option value="buy">{t('order.buy')}</option>
            <option value="sell">{t('order.sell')}</option>
          </select>
        </Field>
        <Field id="order-price" label={`${t('order.price')} (${instrument.currency})`} error={fieldError('price')}>
          <input
            id="order-price"
            inputMode="decimal"
            autoComplete="off"
            required
            value={price}
            onChange={(e) => setPrice(e.target.value)}
          />
        </Field>
        <Field id="order-quantity" label={t('order.quantity')} error={fieldError('quantityLots')}>
          <input
            id="order-quantity"
            inputMode="numeric"
            autoComplete="off"
            required
            value={quantity}
            onChange={(e) => setQuantity(e.target.value)}
          />
        </Field>
        <Field id="order-tif" label={t('order.tif')} error={fieldError('timeInForce')}>
          <select id="order-tif" value={tif} onChange={(e) => setTif(e.target.value)}>
            {TIFS.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" disabled={busy}>
          {t('order.submit')}
        </button>
        {formLevel && error !== null && <InlineError error={error} testId="order-error" />}
        {placed !== null && (
          <p className="ok" role="status" data-testid="order-placed">
            {t('order.placed')}: {placed.orderId} ({placed.status})
          </p>
        )}
      </form>
    </Section>
  );
};

const OPEN_STATUSES = ['open', 'partially_filled'];

const MyOrders = ({
  me,
  instrumentId,
  round,
  onChanged,
}: {
  me: Me;
  instrumentId: string;
  round: number;
  onChanged: () => void;
}) => {
  const i18n = useI18n();
  const { t } = i18n;
  const [orders, reload] = useAsync(
    async () =>
      (await Promise.all(me.accounts.map((a) => getAll<Order>(`/v1/orders?account=${encodeURIComponent(a)}`))))
        .flat()
        .filter((o) => o.instrument === instrumentId),
    [instrumentId, round],
  );
  const [error, setError] = useState<ApiError | null>(null);
  const cancel = async (o: Order) => {
    setError(null);
    try {
      await send('DELETE', `/v1/orders/${encodeURIComponent(o.orderId)}`);
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <Section title={t('order.mine')} id="my-orders">
      {error !== null && <InlineError error={error} />}
      <Show data={orders} retry={reload}>
        {(list) => (
          <DataTable
            rows={[...list].reverse()}
            rowKey={(o) => o.orderId}
            rowProps={(o) => ({ 'data-testid': `order-${o.clientOrderId}` })}
            columns={[
              { header: t('order.account'), cell: (o) => o.account },
              { header: t('order.side'), cell: (o) => (o.side === 'buy' ? t('order.buy') : t('order.sell')) },
              { header: t('market.price'), num: true, cell: (o) => i18n.num(o.price, { minFraction: 2 }) },
              { header: t('market.lots'), num: true, cell: (o) => o.quantityLots },
              { header: t('order.filled'), num: true, cell: (o) => o.filledLots },
              {
                header: t('order.status'),
                cell: (o) => (
                  <>
                    {o.status}
                    {o.reason === null ? '' : ` (${o.reason})`}
                  </>
                ),
              },
              {
                header: <span className="sr-only">{t('order.cancel')}</span>,
                cell: (o) =>
                  OPEN_STATUSES.includes(o.status) && (
                    <button
                      type="button"
                      onClick={() => void cancel(o)}
                      aria-label={`${t('order.cancel')} ${o.clientOrderId}`}
                    >
                      {t('order.cancel')}
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

const MyAllocations = ({ me, round }: { me: Me; round: number }) => {
  const i18n = useI18n();
  const { t } = i18n;
  const [allocations, reload] = useAsync(
    async () =>
      (
        await Promise.all(
          me.accounts.map((a) => getAll<Allocation>(`/v1/allocations?account=${encodeURIComponent(a)}`)),
        )
      ).flat(),
    [round],
  );
  return (
    <Section title={t('order.allocations')} id="my-allocations">
      <Show data={allocations} retry={reload}>
        {(list) => (
          <DataTable
            rows={list}
            rowKey={(a) => a.allocationId}
            columns={[
              { header: t('market.instrument'), cell: (a) => a.instrument },
              {
                header: t('order.account'),
                cell: (a) => (
                  <>
                    {a.providerAccount} → {a.buyerAccount}
                  </>
                ),
              },
              { header: t('order.quantityHours'), num: true, cell: (a) => i18n.num(a.quantity) },
              { header: t('market.price'), num: true, cell: (a) => i18n.money(a.price, a.currency) },
            ]}
          />
        )}
      </Show>
    </Section>
  );
};
