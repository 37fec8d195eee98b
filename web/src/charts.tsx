import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { type ReactNode, useEffect, useRef } from 'react';
import { formatAxisTime, formatDateTime } from './format';
import { type Locale, useI18n } from './i18n';

// ECharts, imported piece by piece so the bundle carries only the charts and components used here.
echarts.use([
  BarChart,
  LineChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;

/** ECharts' own locale for the UI's (its legend, toolbox and date words); ECharts registers EN and ZH itself. */
export const echartsLocale = (locale: Locale): 'ZH' | 'EN' => (locale === 'zh-CN' ? 'ZH' : 'EN');

type Axis = Record<string, unknown> & { type?: string };

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

interface AxisTooltipItem {
  marker?: string;
  seriesName?: string;
  value?: unknown;
}

/**
 * The option in the UI's time zone. ECharts knows only UTC and the browser's own zone: with UTC chosen it works
 * in UTC (`useUTC`); with another zone, the time axes' labels and the tooltip's instant are written by format.ts in
 * that zone, whatever zone the browser is in. Charts without a time axis are returned as they are.
 */
export const zoned = (option: ChartOption, locale: Locale, timeZone: string): ChartOption => {
  const axes = option.xAxis as Axis | Axis[] | undefined;
  const list = axes === undefined ? [] : Array.isArray(axes) ? axes : [axes];
  if (!list.some((a) => a.type === 'time')) return option;
  const utc = timeZone === 'UTC';
  const label = (ms: number) => formatAxisTime(ms, locale, timeZone);
  const instant = (ms: number) => formatDateTime(new Date(ms).toISOString(), locale, timeZone);
  const zonedAxis = (a: Axis): Axis =>
    a.type !== 'time' || utc
      ? a
      : {
          ...a,
          axisLabel: { hideOverlap: true, ...(a.axisLabel as object | undefined), formatter: label },
          axisPointer: {
            ...(a.axisPointer as object | undefined),
            label: { formatter: (p: { value: number }) => instant(p.value) },
          },
        };
  const tooltip = option.tooltip as { trigger?: string } | undefined;
  return {
    ...option,
    useUTC: utc,
    xAxis: Array.isArray(axes) ? list.map(zonedAxis) : zonedAxis(list[0] as Axis),
    ...(tooltip?.trigger === 'axis' && !utc
      ? {
          tooltip: {
            ...tooltip,
            // The axis tooltip's heading is the instant, in the chosen zone; then one line per series.
            formatter: (items: AxisTooltipItem[]) => {
              const first = items[0]?.value;
              const at = Array.isArray(first) && typeof first[0] === 'number' ? instant(first[0]) : '';
              const lines = items.map((it) => {
                const v = Array.isArray(it.value) ? it.value[1] : it.value;
                return `${it.marker ?? ''}${escapeHtml(it.seriesName ?? '')}: ${escapeHtml(String(v ?? '–'))}`;
              });
              return [escapeHtml(at), ...lines].join('<br/>');
            },
          },
        }
      : {}),
  };
};

/**
 * One chart, resized with its container. The caption (visible to assistive technology and to the end-to-end
 * test) states in words what the chart draws, since a canvas says nothing by itself. The chart is made again
 * when the UI's locale changes (ECharts takes its locale at init only) and redrawn when the time zone does.
 */
export const Chart = ({
  option,
  label,
  testId,
  caption,
  height = 320,
}: {
  option: ChartOption;
  label: string;
  testId: string;
  caption?: ReactNode;
  height?: number;
}) => {
  const { locale, timeZone } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const instance = echarts.init(el, undefined, { renderer: 'canvas', locale: echartsLocale(locale) });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [locale]);

  // Runs after the effect above on a locale change, so a new instance gets the option too.
  useEffect(() => {
    chart.current?.setOption(zoned(option, locale, timeZone), { notMerge: true });
  }, [option, locale, timeZone]);

  return (
    <figure className="chart" data-testid={testId}>
      <div ref={ref} role="img" aria-label={label} style={{ width: '100%', height }} />
      {caption !== undefined && <figcaption>{caption}</figcaption>}
    </figure>
  );
};
