import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.js';

/**
 * The one CloudWatch metrics emitter (EMF on stdout), namespace `Presign`.
 * Handlers flush it with the `logMetrics` middleware.
 */
export const metrics = new Metrics({ namespace: 'Presign', serviceName: 'presign', logger });

/**
 * Counts one occurrence of `name`. Without dimensions the count joins the
 * invocation's buffered metrics (flushed by `logMetrics`). With dimensions it
 * is emitted at once as a metric of its own: EMF dimensions apply to a whole
 * metrics document, so per-item dimensions (one `reason` per record) cannot
 * share the buffer.
 */
export function countMetric(name: string, dimensions: Readonly<Record<string, string>> = {}): void {
  const entries = Object.entries(dimensions);
  if (entries.length === 0) {
    metrics.addMetric(name, MetricUnit.Count, 1);
    return;
  }
  const single = metrics.singleMetric();
  for (const [dimension, value] of entries) single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}
