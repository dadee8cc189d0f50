/**
 * Offline wrapping, the sweep: for every offline key the event lists (the stack's hourly schedule,
 * or a refresh request an operator wrote under `<region>/<keyId>/requests/`, both through
 * EventBridge with the keys' properties from the template), it
 * 1. publishes a fresh import-parameter set when the key awaits its ceremony (PendingImport, or not
 *    the expiration the deploy asks) and its freshest set lapses within RefreshBefore, through the
 *    deploy's own publish path (publishParameters: the expiration is the template's, never a request's);
 * 2. answers each refresh request not yet answered in `results/answers/<request name>`: published,
 *    fresh (the freshest set has at least RefreshBefore left), not-needed (and why), or refused (too
 *    large). The handler never reads a request's body: only its name, size and time from the listing;
 * 3. while the key's material expires within RemindBefore: writes the OfflineMaterialExpiring metric
 *    on every run and, once a day (recorded in `results/reminders/<ValidTo>.json`), puts the
 *    "Imported Key Material Expiring" event with what to do.
 * A re-run (a re-delivered request, a retried schedule) finds the requests answered and the set fresh,
 * so it publishes nothing more. One key's failure does not stop the others; failures are counted in
 * a metric, then the run fails so that EventBridge or Lambda retries it.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { KeyMetadata } from '@aws-sdk/client-kms';
import {
  EXPIRING_EVENT, EXPIRING_METRIC, OFFLINE_ANSWER_FOLDER, OFFLINE_FOLDER, OfflineKeyEntry, offlinePrefix, PARAMETER_FILE, ParameterManifest,
  REFRESH_REQUEST_NAME, RefreshAnswer, withDefaults,
} from '../../lib/shared/contract';
import {
  DEFAULT_REFRESH_BEFORE_SECONDS, DEFAULT_REMIND_BEFORE_SECONDS, MAX_REFRESH_REQUEST_BYTES, MAX_WRAPPED_UPLOAD_BYTES, OFFLINE_SWEEP_INTERVAL_MINUTES,
  REFRESH_REQUEST_MAX_AGE_SECONDS, REMINDER_EVERY_SECONDS,
} from '../../lib/shared/limits';
import { describeKey } from '../aws/calls';
import { getObject, listObjects, putObject } from '../aws/parameter-store';
import { answerFor, LiveSet, refreshDecision, refusedAnswer, reminderAction, reminderDue, setMatches } from '../decisions/offline-refresh';
import { hasExpiration, requestedExpiration } from '../decisions/expiration';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import { writeMetric } from '../metrics';
import type { UploadClients } from './import-upload';
import { publishParameters, whyNoSet } from './publish-parameters';

/** Keys swept at once: KMS's GetParametersForImport has a low request quota. */
const CONCURRENCY = 4;
export const SWEEP_FAILURES_METRIC = 'OfflineSweepFailures';

/** What the sweep did for one key, for its log line (never a token or a public key). */
export interface KeySweep {
  readonly keyArn: string;
  readonly outcome: 'published' | 'unchanged' | 'failed';
  readonly reason: string;
  readonly parameterSet?: string;
  readonly answered: number;
  readonly reminded: 'event' | 'metric' | 'no';
}

export interface SweepSummary {
  readonly published: number;
  readonly unchanged: number;
  readonly failed: number;
  readonly answered: number;
}

export async function sweepOffline(clients: UploadClients, trigger: string, keys: OfflineKeyEntry[], log: (entry: object) => void, now = new Date()): Promise<SweepSummary> {
  const sweeps: KeySweep[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const entry = keys[next++];
      try {
        const sweep = await sweepKey(clients, entry, now);
        sweeps.push(sweep);
        log({ requestType: 'OfflineSweep', trigger, ...sweep });
      } catch (error) {
        const reason = error instanceof ImportError ? error.message : 'the sweep of this key failed unexpectedly.';
        sweeps.push({ keyArn: entry.KeyArn, outcome: 'failed', reason, answered: 0, reminded: 'no' });
        log({ requestType: 'OfflineSweep', trigger, keyArn: entry.KeyArn, outcome: 'failed', reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, keys.length) }, worker));
  const count = (outcome: KeySweep['outcome']) => sweeps.filter((s) => s.outcome === outcome).length;
  const summary = { published: count('published'), unchanged: count('unchanged'), failed: count('failed'), answered: sweeps.reduce((n, s) => n + s.answered, 0) };
  writeMetric(SWEEP_FAILURES_METRIC, summary.failed, 'FunctionName', {
    FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown', requestType: 'OfflineSweep', trigger, published: summary.published, answered: summary.answered,
  });
  if (summary.failed > 0) {
    const failed = sweeps.filter((s) => s.outcome === 'failed').map((s) => s.keyArn);
    throw new ImportError(`The offline sweep failed for ${summary.failed} of ${keys.length} keys (${failed.join(', ')}); each key's reason is logged above. `
      + 'The run is retried, and the next hourly run tries again.');
  }
  return summary;
}

async function sweepKey(clients: UploadClients, entry: OfflineKeyEntry, now: Date): Promise<KeySweep> {
  const props = withDefaults(entry);
  const keyArn = props.KeyArn;
  const bucket = props.ParameterBucket!;
  const prefix = offlinePrefix(keyArn);
  const s3 = <T>(call: Promise<T>, verb: 'read' | 'write' | 'list', key: string): Promise<T> => call.catch((e: unknown) => { throw s3Error(e, verb, bucket, key); });

  const key = await describeKey(clients, keyArn).catch((e: unknown) => { throw toImportError(e, 'describe-key', keyArn, undefined); });
  const expiration = requestedExpiration(props, now, false);
  const noSet = whyNoSet(key, props, expiration);
  const freshest = await s3(freshestLiveSet(clients, bucket, prefix, now), 'list', `${prefix}${OFFLINE_FOLDER.PARAMETERS}`);
  const matches = Boolean(freshest && expiration !== 'passed' && setMatches(freshest, props, expiration));
  const decision = refreshDecision(noSet, freshest, matches, Number(entry.RefreshBefore ?? DEFAULT_REFRESH_BEFORE_SECONDS), now);

  // The requests of the last week that have no answer yet.
  const since = new Date(now.getTime() - REFRESH_REQUEST_MAX_AGE_SECONDS * 1000).toISOString();
  const [requests, answers] = await Promise.all([
    s3(listObjects(clients.s3, bucket, `${prefix}${OFFLINE_FOLDER.REQUESTS}`, `${prefix}${OFFLINE_FOLDER.REQUESTS}${since}`), 'list', `${prefix}${OFFLINE_FOLDER.REQUESTS}`),
    s3(listObjects(clients.s3, bucket, `${prefix}${OFFLINE_ANSWER_FOLDER.ANSWERS}`, `${prefix}${OFFLINE_ANSWER_FOLDER.ANSWERS}${since}`), 'list', `${prefix}${OFFLINE_ANSWER_FOLDER.ANSWERS}`),
  ]);
  const answered = new Set(answers.map((a) => a.key.slice(`${prefix}${OFFLINE_ANSWER_FOLDER.ANSWERS}`.length)));
  const pending = requests.map((r) => ({ ...r, name: r.key.slice(`${prefix}${OFFLINE_FOLDER.REQUESTS}`.length) }))
    .filter((r) => REFRESH_REQUEST_NAME.test(r.name) && !answered.has(r.name));

  const published = decision.publish ? await publishParameters(clients, props, now) : undefined;
  const set = published?.parameterSet ?? decision.fresh?.name;
  for (const request of pending) {
    const answer: RefreshAnswer = request.size > MAX_REFRESH_REQUEST_BYTES
      ? refusedAnswer(request.key, keyArn, request.size, MAX_REFRESH_REQUEST_BYTES, now)
      : answerFor(request.key, keyArn, decision, published && { set: published.parameterSet, parametersValidTo: published.parametersValidTo, reason: published.reason ?? decision.reason }, now);
    const answerKey = `${prefix}${OFFLINE_ANSWER_FOLDER.ANSWERS}${request.name}`;
    await s3(putObject(clients.s3, bucket, answerKey, JSON.stringify(answer, null, 2), 'application/json'), 'write', answerKey);
  }

  const reminded = await remind(clients, entry, key, { noSet, satisfied: key.KeyState !== 'PendingImport' && expiration !== 'passed' && hasExpiration(key, expiration),
    set: noSet ? undefined : set, bucket, prefix, now });
  return {
    keyArn, outcome: published?.parameterSet ? 'published' : 'unchanged', reason: published?.reason ?? decision.reason,
    parameterSet: published?.parameterSet, answered: pending.length, reminded,
  };
}

/** The freshest set whose manifest is written (so it is complete) and whose ParametersValidTo is still ahead. */
async function freshestLiveSet(clients: UploadClients, bucket: string, prefix: string, now: Date): Promise<LiveSet | undefined> {
  const root = `${prefix}${OFFLINE_FOLDER.PARAMETERS}`;
  // Sets are named by their ParametersValidTo: starting after `now` lists only those not lapsed.
  const names = (await listObjects(clients.s3, bucket, root, `${root}${now.toISOString()}`))
    .map((o) => o.key.slice(root.length))
    .filter((k) => k.endsWith(`/${PARAMETER_FILE.MANIFEST}`) && k.indexOf('/') === k.length - PARAMETER_FILE.MANIFEST.length - 1)
    .map((k) => k.slice(0, k.indexOf('/')))
    .sort();
  const name = names[names.length - 1];
  if (!name) return undefined;
  const bytes = await getObject(clients.s3, bucket, `${root}${name}/${PARAMETER_FILE.MANIFEST}`, MAX_WRAPPED_UPLOAD_BYTES);
  if (!(bytes instanceof Buffer)) return undefined;
  const manifest = JSON.parse(bytes.toString()) as ParameterManifest;
  return new Date(manifest.parametersValidTo).getTime() > now.getTime() ? { name, manifest } : undefined;
}

interface ReminderContext {
  readonly noSet?: string;
  readonly satisfied: boolean;
  readonly set?: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly now: Date;
}

/**
 * The expiry reminder: the metric on every run while due (an alarm watches its Maximum), the event
 * once a day per ValidTo. A lost event is logged and sent again on the next run (no record written).
 */
async function remind(clients: UploadClients, entry: OfflineKeyEntry, key: KeyMetadata, context: ReminderContext): Promise<KeySweep['reminded']> {
  const { bucket, prefix, now } = context;
  const due = reminderDue(key, Number(entry.RemindBefore ?? DEFAULT_REMIND_BEFORE_SECONDS), now);
  if (!due) return 'no';
  const keyArn = entry.KeyArn;
  const validTo = due.validTo.toISOString();
  writeMetric(EXPIRING_METRIC, 1, 'KeyId', { KeyId: keyArn.slice(keyArn.lastIndexOf('/') + 1), event: 'OfflineMaterialExpiring', keyArn, validTo, daysLeft: due.daysLeft });
  const recordKey = `${prefix}${OFFLINE_ANSWER_FOLDER.REMINDERS}${validTo}.json`;
  const record = await getObject(clients.s3, bucket, recordKey, MAX_WRAPPED_UPLOAD_BYTES).catch((e: unknown) => { throw s3Error(e, 'read', bucket, recordKey); });
  const lastSentAt = record instanceof Buffer ? new Date((JSON.parse(record.toString()) as { lastSentAt?: string }).lastSentAt ?? 0).getTime() : 0;
  // Once a day: half a sweep interval of slack, so that hourly runs a few seconds early still send.
  if (now.getTime() - lastSentAt < REMINDER_EVERY_SECONDS * 1000 - OFFLINE_SWEEP_INTERVAL_MINUTES * 30_000) return 'metric';
  const action = reminderAction(due, context.noSet, context.satisfied, context.set, `${bucket} --key ${keyArn}`);
  const detail = {
    keyArn, validTo, daysLeft: due.daysLeft, requestedValidTo: entry.ValidTo ?? null, bucket,
    parameterSet: context.set ? `${prefix}${OFFLINE_FOLDER.PARAMETERS}${context.set}/` : null, action,
  };
  const sent = await clients.events.send(new PutEventsCommand({ Entries: [{
    Source: EXPIRING_EVENT.SOURCE, DetailType: EXPIRING_EVENT.DETAIL_TYPE, Resources: [keyArn], Detail: JSON.stringify(detail),
  }] })).then((r) => !r.FailedEntryCount, () => false);
  if (!sent) return 'metric';
  await putObject(clients.s3, bucket, recordKey, JSON.stringify({ keyArn, validTo, daysLeft: due.daysLeft, lastSentAt: now.toISOString(), action }, null, 2), 'application/json')
    .catch((e: unknown) => { throw s3Error(e, 'write', bucket, recordKey); });
  return 'event';
}

function s3Error(error: unknown, verb: 'read' | 'write' | 'list', bucket: string, key: string): ImportError {
  return new ImportError(`The offline sweep could not ${verb} s3://${bucket}/${key} (${(error as Error).name}). `
    + 'Check that the bucket exists and the import handler may list it and read and write the key\'s prefix; the next run tries again.', (error as Error).name);
}
