// Proves charts follow the UI's locale and time zone: ECharts' locale per UI locale, UTC handed to ECharts as
// useUTC, and any other zone written by format.ts on the time axis and in the axis tooltip, whatever the
// browser's own zone.
import { describe, expect, it } from 'vitest';
import { type ChartOption, echartsLocale, zoned } from './charts';

const priceChart: ChartOption = {
  tooltip: { trigger: 'axis' },
  xAxis: { type: 'time' },
  yAxis: { type: 'value' },
  series: [{ name: 'Floor', type: 'line', data: [[Date.parse('2026-03-16T16:00:00Z'), 18]] }],
};

type Formatter = (v: unknown) => string;
const axisOf = (o: ChartOption) =>
  o.xAxis as { axisLabel?: { formatter?: Formatter }; axisPointer?: { label?: { formatter?: Formatter } } };

describe('echartsLocale', () => {
  it('maps the UI locales to ECharts’ built-in ones', () => {
    expect(echartsLocale('zh-CN')).toBe('ZH');
    expect(echartsLocale('en')).toBe('EN');
  });
});

describe('zoned', () => {
  it('hands UTC to ECharts and leaves its labels alone', () => {
    const o = zoned(priceChart, 'en', 'UTC');
    expect(o.useUTC).toBe(true);
    expect(axisOf(o).axisLabel).toBeUndefined();
    expect((o.tooltip as { formatter?: unknown }).formatter).toBeUndefined();
  });

  it('writes the time axis and the tooltip in another zone, in the UI locale', () => {
    const o = zoned(priceChart, 'zh-CN', 'Asia/Shanghai');
    expect(o.useUTC).toBe(false);
    const at = Date.parse('2026-03-16T16:00:00Z');
    expect(axisOf(o).axisLabel?.formatter?.(at)).toBe('3月17日');
    expect(axisOf(o).axisLabel?.formatter?.(at + 30 * 60_000)).toBe('3月17日 00:30');
    expect(axisOf(o).axisPointer?.label?.formatter?.({ value: at })).toBe('2026年3月17日 GMT+8 00:00');
    const tooltip = (o.tooltip as { formatter: Formatter }).formatter([
      { marker: '<i></i>', seriesName: 'Floor <b>', value: [at, 18] },
    ]);
    expect(tooltip).toBe('2026年3月17日 GMT+8 00:00<br/><i></i>Floor &lt;b&gt;: 18');
    // The caller's option is not changed.
    expect(axisOf(priceChart).axisLabel).toBeUndefined();
  });

  it('leaves a chart without a time axis as it is', () => {
    const depth: ChartOption = { xAxis: { type: 'category', data: ['24.5'] }, yAxis: { type: 'value' } };
    expect(zoned(depth, 'zh-CN', 'Asia/Shanghai')).toBe(depth);
  });
});
