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

/**
 * One chart, resized with its container. The caption (visible to assistive technology and to the end-to-end
 * test) states in words what the chart draws, since a canvas says nothing by itself.
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
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const instance = echarts.init(el, undefined, { renderer: 'canvas' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <figure className="chart" data-testid={testId}>
      <div ref={ref} role="img" aria-label={label} style={{ width: '100%', height }} />
      {caption !== undefined && <figcaption>{caption}</figcaption>}
    </figure>
  );
};
