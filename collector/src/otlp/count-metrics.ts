import { array, object, parseJsonBody, pick, readJsonShape } from './decode-json.ts';
import { enter, expectWireType, LEN, readTag, skipField, wireFailure, wireState, type WireState } from './decode-protobuf.ts';
import { METRIC_LABELS, newPosition } from './shared.ts';
import type { OtlpFormat } from './decode.ts';

/*
 * Faultline stores no metrics, but the agent CLIs send them beside their logs; the answer must
 * still be an OTLP answer (partial success naming how many data points were refused) and a
 * malformed body must still be a 400. So the request is walked as far as the data points and
 * they are counted: ExportMetricsServiceRequest{resource_metrics 1} → ResourceMetrics{scope_metrics 2}
 * → ScopeMetrics{metrics 2} → Metric{gauge 5, sum 7, histogram 9, exponential_histogram 10,
 * summary 11} → {data_points 1} (opentelemetry-proto metrics/v1/metrics.proto).
 */

const DATA_FIELDS = new Map<number, string>([
  [5, 'gauge'],
  [7, 'sum'],
  [9, 'histogram'],
  [10, 'exponential_histogram'],
  [11, 'summary'],
]);
const JSON_DATA_FIELDS: [camel: string, snake: string][] = [
  ['gauge', 'gauge'],
  ['sum', 'sum'],
  ['histogram', 'histogram'],
  ['exponentialHistogram', 'exponential_histogram'],
  ['summary', 'summary'],
];

/** Data points in an ExportMetricsServiceRequest; throws OtlpDecodeError when it cannot be read. */
export function countMetricDataPoints(body: Uint8Array, format: OtlpFormat): number {
  return format === 'protobuf' ? countProtobuf(body) : countJson(body);
}

function countProtobuf(body: Uint8Array): number {
  const s = wireState(body, METRIC_LABELS);
  try {
    return each(s, 1, 'ExportMetricsServiceRequest.resource_metrics', (rm) => {
      s.where.resourceSpans = rm;
      const n = nested(s, () =>
        each(s, 2, 'ResourceMetrics.scope_metrics', (sm) => {
          s.where.scopeSpans = sm;
          return nested(s, () =>
            each(s, 2, 'ScopeMetrics.metrics', (m) => {
              s.where.spans = m;
              return nested(s, () => countMetric(s));
            }),
          );
        }),
      );
      s.where.scopeSpans = -1;
      s.where.spans = -1;
      return n;
    });
  } catch (err) {
    throw wireFailure(err, s);
  }
}

/** Sums `count(index)` over every occurrence of LEN field `field` in the current message. */
function each(s: WireState, field: number, name: string, count: (index: number) => number): number {
  let total = 0;
  let index = 0;
  while (s.r.pos < s.r.len) {
    const tag = readTag(s.r);
    if (tag >>> 3 === field) {
      expectWireType(tag, LEN, name);
      total += count(index++);
    } else skipField(s.r, tag, 0);
  }
  return total;
}

/** Runs `inside` over the length-delimited message at the reader, then restores the outer bound. */
function nested(s: WireState, inside: () => number): number {
  const outer = enter(s.r);
  const n = inside();
  s.r.len = outer;
  return n;
}

function countMetric(s: WireState): number {
  let points = 0;
  while (s.r.pos < s.r.len) {
    const tag = readTag(s.r);
    const kind = DATA_FIELDS.get(tag >>> 3);
    if (kind !== undefined) {
      expectWireType(tag, LEN, `Metric.${kind}`);
      points += nested(s, () => each(s, 1, `${kind}.data_points`, () => skipPoint(s)));
    } else skipField(s.r, tag, 0);
  }
  return points;
}

/** A data point is only counted: its bytes are skipped (the length prefix is still checked). */
function skipPoint(s: WireState): number {
  skipField(s.r, (1 << 3) | LEN, 0);
  return 1;
}

function countJson(body: Uint8Array): number {
  const doc = parseJsonBody(body, 'ExportMetricsServiceRequest');
  const where = newPosition(METRIC_LABELS);
  return readJsonShape(where, () => {
    let points = 0;
    const resourceMetrics = array(pick(doc, 'resourceMetrics', 'resource_metrics'), 'resourceMetrics');
    for (let i = 0; i < resourceMetrics.length; i++) {
      where.resourceSpans = i;
      const rm = object(resourceMetrics[i], 'resourceMetrics[]');
      const scopeMetrics = rm ? array(pick(rm, 'scopeMetrics', 'scope_metrics'), 'scopeMetrics') : [];
      for (let j = 0; j < scopeMetrics.length; j++) {
        where.scopeSpans = j;
        const sm = object(scopeMetrics[j], 'scopeMetrics[]');
        const metrics = sm ? array(sm.metrics, 'metrics') : [];
        for (let k = 0; k < metrics.length; k++) {
          where.spans = k;
          const metric = object(metrics[k], 'metrics[]');
          if (!metric) continue;
          for (const [camel, snake] of JSON_DATA_FIELDS) {
            const data = object(pick(metric, camel, snake), camel);
            if (data) points += array(pick(data, 'dataPoints', 'data_points'), 'dataPoints').length;
          }
        }
        where.spans = -1;
      }
      where.scopeSpans = -1;
    }
    return points;
  });
}
