import * as cdk from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** What `Validations.of(scope)` offers, as far as this library uses it; older aws-cdk-lib lacks parts. */
interface ValidationsApi {
  acknowledge?: (...rules: Array<{ id: string; reason: string }>) => void;
}

/**
 * Records that the cdk-nag AwsSolutions finding `rule` (with its `detail`, as cdk-nag names it:
 * `AwsSolutions-IAM5[Resource::<X.Arn>:*]`) on `scope` is intended, as precisely as the aws-cdk-lib
 * in use allows. The peer range starts before aws-cdk-lib could record it, so each part of the API is
 * detected, not assumed:
 * - `Validations.acknowledge` takes the finding with its detail (aws-cdk-lib 2.269 on): that finding;
 * - it refuses `::` inside the rule name (InvalidValidationId, 2.252 to 2.268): the finding without the
 *   pack's prefix, which those versions record as given and cdk-nag 3 matches on `scope` and below;
 * - no `Validations`, or no `acknowledge` (before 2.252): nothing; README says how to suppress by hand.
 */
export function acknowledgeNagFinding(scope: IConstruct, rule: string, reason: string, detail?: string): void {
  const validations = (cdk as { Validations?: { of(scope: IConstruct): ValidationsApi } }).Validations;
  const api = validations?.of(scope);
  if (typeof api?.acknowledge !== 'function') return;
  const bare = `AwsSolutions::${rule}`;
  if (detail === undefined) return api.acknowledge({ id: bare, reason });
  try {
    api.acknowledge({ id: `${bare}[${detail}]`, reason });
  } catch (error) {
    if ((error as Error).name !== 'InvalidValidationId') throw error;
    api.acknowledge({ id: `${rule}[${detail}]`, reason });
  }
}
