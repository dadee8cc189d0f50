/**
 * Scheduled renewal of rolling expirations: every key listed in the event is re-imported with a
 * ValidTo `RollingValidity` ahead, by the same steps as a deploy. One key's failure does not stop
 * the others; each outcome is one log line, and the failures are a CloudWatch metric (Embedded
 * Metric Format: a structured log line, no extra permission) before the run fails so that Lambda
 * retries it.
 */
import { ImportProperties, withDefaults } from '../../lib/shared/contract';
import { converge, ConvergeOptions } from './converge';
import { ImportError } from '../errors/import-error';
import { Clients } from '../aws/calls';
import { writeMetric } from '../metrics';

/** Keys renewed at once: KMS's import APIs have low request quotas. */
const CONCURRENCY = 4;
export const RENEWAL_FAILURES_METRIC = 'RenewalFailures';

export interface RenewalSummary {
  readonly renewed: number;
  readonly unchanged: number;
  readonly failed: number;
}

export async function renew(clients: Clients, keys: ImportProperties[], log: (entry: object) => void, options: ConvergeOptions = {}): Promise<RenewalSummary> {
  const outcomes: Array<'renewed' | 'unchanged' | 'failed'> = [];
  const failedKeys: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const props = keys[next++];
      try {
        const result = await converge(clients, { requestType: 'Update', props: withDefaults(props), oldProps: props, renewal: true }, options);
        outcomes.push(result.imported ? 'renewed' : 'unchanged');
        log({ requestType: 'Renewal', keyArn: props.KeyArn, outcome: result.imported ? 'renewed' : 'unchanged', reason: result.reason });
      } catch (error) {
        const message = error instanceof ImportError ? error.message : 'the renewal failed unexpectedly.';
        outcomes.push('failed');
        failedKeys.push(props.KeyArn);
        log({ requestType: 'Renewal', keyArn: props.KeyArn, outcome: 'failed', reason: message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, keys.length) }, worker));
  const count = (outcome: string) => outcomes.filter((o) => o === outcome).length;
  const summary = { renewed: count('renewed'), unchanged: count('unchanged'), failed: count('failed') };
  // CloudWatch counts RenewalFailures per handler function; the counts stay in the line for log queries.
  writeMetric(RENEWAL_FAILURES_METRIC, summary.failed, 'FunctionName', {
    FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown', requestType: 'Renewal', renewed: summary.renewed, unchanged: summary.unchanged,
  });
  if (summary.failed > 0) {
    throw new ImportError(`Renewing the material of ${summary.failed} of ${keys.length} rolling keys failed (${failedKeys.join(', ')}); `
      + 'each key\'s reason is logged above. Lambda retries this run; fix the cause before the material lapses.');
  }
  return summary;
}

