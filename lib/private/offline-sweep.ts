import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OFFLINE_FOLDER, OfflineKeyEntry, OfflineSweepEvent } from '../shared/contract';
import { OFFLINE_SWEEP_INTERVAL_MINUTES } from '../shared/limits';
import { KMS_KEY_ARN_MAX_LENGTH, resolvedLengthUpperBound } from './policy-size';

/** EventBridge's limit for a target's input (characters), minus the event's envelope. */
const INPUT_BUDGET = 8192 - 96;
/** EventBridge's limit of targets per rule. */
const TARGETS_PER_RULE = 5;

/**
 * Offline wrapping, the sweep (lambda/operations/offline-sweep.ts) for all offline keys of a stack:
 * one hourly rule whose targets invoke the stack's import handler with the keys' entries (their
 * import properties as in the template, so the expiration is the deploy's), and per bucket one rule
 * on S3's Object Created events under `<region>/<keyId>/requests/` (the operators' refresh
 * requests) that sends the same entries of that bucket's keys, so a request is answered at once.
 * Like the renewal schedule (renewal-schedule.ts): a target carries about 8 KB of entries (20 to
 * 40 keys), a rule up to 5 targets, so many keys add a few rules, not one per key.
 */
export class OfflineSweep extends Construct {
  private readonly schedule: TargetGroup;
  private readonly requests = new Map<s3.IBucket, TargetGroup>();

  constructor(scope: Construct, id: string, private readonly handler: lambda.IFunction) {
    super(scope, id);
    this.schedule = { trigger: 'schedule', shards: [], rule: (index) => new events.Rule(this, `Schedule${part(index)}`, {
      description: 'ImportedKmsKey: keeps the import-parameter sets of offline keys awaiting their ceremony fresh, answers refresh requests, reminds before expiry',
      schedule: events.Schedule.rate(Duration.minutes(OFFLINE_SWEEP_INTERVAL_MINUTES)),
    }) };
  }

  /** Adds one offline key (its entry, KeyArn from the import resource so it starts once that succeeded) to the schedule and to its bucket's request rule. */
  public add(entry: OfflineKeyEntry, bucket: s3.IBucket): void {
    const size = resolvedLengthUpperBound(Stack.of(this), JSON.stringify({ ...entry, KeyArn: 'x'.repeat(KMS_KEY_ARN_MAX_LENGTH) })) + 1;
    this.addTo(this.schedule, entry, size);
    let group = this.requests.get(bucket);
    if (!group) {
      const bucketIndex = this.requests.size + 1;
      group = { trigger: 'request', shards: [], rule: (index) => new events.Rule(this, `Requests${bucketIndex === 1 ? '' : bucketIndex}${part(index)}`, {
        description: 'ImportedKmsKey: an offline-wrapping operator asked for a fresh import-parameter set; the import handler answers it',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: { bucket: { name: [bucket.bucketName] }, object: { key: events.Match.wildcard(`*/*/${OFFLINE_FOLDER.REQUESTS}*.json`) } },
        },
      }) };
      this.requests.set(bucket, group);
    }
    this.addTo(group, entry, size);
  }

  private addTo(group: TargetGroup, entry: OfflineKeyEntry, size: number): void {
    let shard = group.shards[group.shards.length - 1];
    if (!shard || shard.spent + size > INPUT_BUDGET) {
      const index = group.shards.length;
      const ruleIndex = Math.floor(index / TARGETS_PER_RULE);
      const rule = index % TARGETS_PER_RULE === 0 ? group.rule(ruleIndex) : group.rules![ruleIndex];
      group.rules = [...group.rules ?? [], ...(index % TARGETS_PER_RULE === 0 ? [rule] : [])];
      const keys: OfflineKeyEntry[] = [];
      const input: OfflineSweepEvent = { ImportedKmsKeyOffline: { Trigger: group.trigger, Keys: Lazy.any({ produce: () => keys }) as unknown as OfflineKeyEntry[] } };
      rule.addTarget(new targets.LambdaFunction(this.handler, { event: events.RuleTargetInput.fromObject(input), retryAttempts: 2 }));
      shard = { keys, spent: 0 };
      group.shards.push(shard);
    }
    shard.keys.push(entry);
    shard.spent += size;
  }
}

/** The second and later rules of a group: `Part2`, `Part3`, ... */
const part = (index: number) => (index === 0 ? '' : `Part${index + 1}`);

interface TargetGroup {
  readonly trigger: 'schedule' | 'request';
  readonly shards: Array<{ readonly keys: OfflineKeyEntry[]; spent: number }>;
  /** Creates the group's rule number `index` (0-based). */
  readonly rule: (index: number) => events.Rule;
  rules?: events.Rule[];
}
