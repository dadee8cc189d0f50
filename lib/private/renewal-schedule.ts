import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ImportProperties } from '../shared/contract';
import { KMS_KEY_ARN_MAX_LENGTH, resolvedLengthUpperBound } from './policy-size';

/** EventBridge's limit for a target's input (characters), minus the event's envelope. */
const INPUT_BUDGET = 8192 - 64;
/** EventBridge's limit of targets per rule. */
const TARGETS_PER_RULE = 5;

/**
 * The renewal of rolling expirations, for all keys of a stack: scheduled EventBridge rules whose
 * targets invoke the stack's import handler with the keys to renew in their input. A rule serves
 * up to 5 targets of about 8 KB each (50 to 130 keys, by the length of their secret ARNs), so 150 rolling
 * keys add a handful of resources, not one per key. Keys with the same renewal interval share rules.
 */
export class RenewalSchedule extends Construct {
  /** Each interval's targets, by the interval: minutes, or the token's text for one known only at deploy time. */
  private readonly shards = new Map<string, Shard[]>();

  constructor(scope: Construct, id: string, private readonly handler: lambda.IFunction) {
    super(scope, id);
  }

  /** Adds a key, by the import properties the handler needs, to the schedule of its interval. */
  public add(properties: ImportProperties, interval: Duration): void {
    const key = intervalKey(interval);
    // Resolved, the key ARN is at most 100 characters; other references (a secret of this stack) are measured at their longest.
    const size = resolvedLengthUpperBound(Stack.of(this), JSON.stringify({ ...properties, KeyArn: 'x'.repeat(KMS_KEY_ARN_MAX_LENGTH) })) + 1;
    const shards = this.shards.get(key) ?? [];
    this.shards.set(key, shards);
    let shard = shards[shards.length - 1];
    if (!shard || shard.spent + size > INPUT_BUDGET) shard = this.openShard(interval, shards);
    shard.keys.push(properties);
    shard.spent += size;
  }

  private openShard(interval: Duration, shards: Shard[]): Shard {
    const index = shards.length;
    const ruleIndex = Math.floor(index / TARGETS_PER_RULE);
    const every = interval.isUnresolved() ? `DeployTimeInterval${[...this.shards.keys()].filter((k) => !/^\d+$/.test(k)).indexOf(intervalKey(interval)) + 1}` : `${interval.toMinutes()}Minutes`;
    const ruleId = `Every${every}${ruleIndex === 0 ? '' : ruleIndex + 1}`;
    const rule = (this.node.tryFindChild(ruleId) as events.Rule | undefined) ?? new events.Rule(this, ruleId, {
      description: `ImportedKmsKey: renews rolling key material expirations every ${interval.toHumanString()}`,
      schedule: events.Schedule.rate(interval),
    });
    const keys: ImportProperties[] = [];
    rule.addTarget(new targets.LambdaFunction(this.handler, {
      event: events.RuleTargetInput.fromObject({ ImportedKmsKeyRenewal: Lazy.any({ produce: () => keys }) }),
    }));
    const shard = { keys, spent: 0 };
    shards.push(shard);
    return shard;
  }
}

/** One target's keys and the input budget they use. */
interface Shard {
  readonly keys: ImportProperties[];
  spent: number;
}

/** The interval in minutes, or for one known only at deploy time the token itself, as text. */
function intervalKey(interval: Duration): string {
  return interval.isUnresolved() ? interval.formatTokenToNumber() : String(interval.toMinutes());
}
