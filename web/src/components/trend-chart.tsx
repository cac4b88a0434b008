import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useText } from '../i18n.ts';
import type { TrendPoint } from '../lib/results.ts';

const orNull = (v: number | undefined) => (v === undefined ? null : v);

/**
 * One analysis over time (uPlot): the values, the lab's reference interval as a band, and critical
 * results (HL7 interpretation LL/HH) as red markers. The numbers are in the cumulative table too,
 * so the chart is `role="img"` with a text summary.
 */
export function TrendChart(props: { title: string; unit: string; points: readonly TrendPoint[]; width: number }) {
  const t = useText();
  const host = useRef<HTMLDivElement>(null);
  const { points, width } = props;
  useEffect(() => {
    if (!host.current || points.length === 0) return;
    const data: uPlot.AlignedData = [
      points.map((p) => p.t),
      points.map((p) => p.value),
      points.map((p) => orNull(p.high)),
      points.map((p) => orNull(p.low)),
      points.map((p) => (p.critical ? p.value : null)),
    ];
    const plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: false },
        scales: { x: { time: true } },
        series: [
          {},
          { label: props.title, stroke: '#1d4e89', width: 2, points: { show: true, size: 6 } },
          { label: 'high', stroke: 'rgba(46,125,50,0.6)', width: 1, dash: [4, 4], points: { show: false } },
          { label: 'low', stroke: 'rgba(46,125,50,0.6)', width: 1, dash: [4, 4], points: { show: false } },
          {
            label: t('critical'),
            stroke: '#b00020',
            paths: () => null,
            points: { show: true, size: 12, fill: '#b00020', stroke: '#b00020' },
          },
        ],
        bands: [{ series: [2, 3], fill: 'rgba(46,125,50,0.12)' }],
        axes: [{}, { label: props.unit, size: 60 }],
      },
      data,
      host.current,
    );
    return () => plot.destroy();
  }, [points, width, props.title, props.unit, t]);
  const last = points.at(-1);
  const criticals = points.filter((p) => p.critical).length;
  const summary = `${props.title}: ${points.length} · ${last ? `${last.value} ${props.unit}` : ''}${
    criticals ? ` · ${t('critical')}: ${criticals}` : ''
  }`;
  return (
    <figure className="trend">
      <figcaption>
        {props.title} <span className="unit">({props.unit})</span>
        {criticals > 0 && (
          <span className="badge critical">
            {' '}
            {t('critical')} ×{criticals}
          </span>
        )}
      </figcaption>
      <div ref={host} role="img" aria-label={summary} data-points={points.length} data-critical={criticals} />
    </figure>
  );
}
