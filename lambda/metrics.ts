/**
 * The handler's CloudWatch metrics, as Embedded Metric Format lines: one JSON line on stdout that
 * CloudWatch Logs turns into a metric in the `ImportedKmsKey` namespace, with the line's other fields
 * kept for log queries.
 */
import { METRIC_NAMESPACE } from '../lib/shared/contract';

export { METRIC_NAMESPACE };

/**
 * Writes one metric line, counting `value` of `metric` for the `dimension` (its value in `fields`
 * under the same name). Written straight to stdout, not through console.log: under Lambda's JSON log
 * format (the handler's) the Node runtime wraps console output in its own record, where CloudWatch no
 * longer finds `_aws` at the top level and extracts no metric.
 */
export function writeMetric(metric: string, value: number, dimension: string, fields: Record<string, unknown>): void {
  const line = {
    _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [[dimension]], Metrics: [{ Name: metric, Unit: 'Count' }] }] },
    ...fields,
    [metric]: value,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
