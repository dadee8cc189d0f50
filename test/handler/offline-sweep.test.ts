/**
 * Offline wrapping, the sweep (lambda/operations/offline-sweep.ts) through the handler's entry point:
 * the hourly schedule and the refresh requests publish a fresh parameter set only for keys awaiting
 * their ceremony whose freshest set lapses soon, answer every request once, and remind before the
 * material's ValidTo. KMS is the stateful model, S3 an in-memory bucket, EventBridge a mock; the
 * clock is jest's, so the sets' 24 hours pass in a line.
 */
import { GetParametersForImportCommand } from '@aws-sdk/client-kms';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command, PutObjectCommand, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda';
import {
  EXPIRING_EVENT, EXPIRING_METRIC, OfflineKeyEntry, offlinePrefix, ParameterManifest, RefreshAnswer,
} from '../../lib/shared/contract';
import { symmetricMaterial } from '../support/keys';
import { create, holding, inDays, KEY_ARN, kms, kmsModel, output, resetHarness, state, TOKEN, wrapping } from './support/handler-harness';
import { MemoryBucket } from './support/memory-bucket';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const BUCKET = 'offline-parameters';
const bucket = new MemoryBucket(BUCKET);
const PREFIX = offlinePrefix(KEY_ARN);
const HOUR = 3_600_000;
const T0 = new Date('2026-12-07T10:00:00.000Z').getTime();

const entry = (overrides: Partial<OfflineKeyEntry> = {}): OfflineKeyEntry => ({
  KeyArn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', ...overrides,
});
const sweep = (keys: OfflineKeyEntry[], Trigger: 'schedule' | 'request' = 'schedule') => handler({ ImportedKmsKeyOffline: { Trigger, Keys: keys } });
const sweepError = (keys: OfflineKeyEntry[], Trigger: 'schedule' | 'request' = 'schedule') => sweep(keys, Trigger).then(() => { throw new Error('expected a failure'); }, (e: Error) => e.message);
/** The deploy's publish (Create of the custom resource), as the template's properties ask. */
const deploy = (e = entry()) => handler(create({ ...e, SecretId: undefined }));
const sets = (prefix = PREFIX) => bucket.keys(`${prefix}parameters/`).filter((k) => k.endsWith('/manifest.json')).map((k) => k.split('/')[3]);
const at = (hours: number) => jest.setSystemTime(T0 + hours * HOUR);
const request = (name = `${new Date().toISOString()}.json`, body = '{"reason":"no complete parameter set"}') => {
  bucket.put(`${PREFIX}requests/${name}`, body);
  return name;
};
const answer = (name: string) => bucket.json<RefreshAnswer>(`${PREFIX}results/answers/${name}`);
const parametersCalls = () => kms.commandCalls(GetParametersForImportCommand).length;
const sentEvents = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);
const metricLines = (name: string) => output.filter((line) => line.includes(`"${name}"`) && line.includes('"_aws"'));

beforeEach(() => {
  resetHarness();
  s3.reset();
  events.reset();
  bucket.objects.clear();
  bucket.install(s3);
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate'] });
});
afterEach(() => jest.useRealTimers());

describe('refresh requests', () => {
  test('a request for a key awaiting its ceremony, whose set lapsed, publishes one fresh set and answers with it', async () => {
    await deploy();
    const [first] = sets();
    at(25); // the deploy's set lapsed an hour ago
    const name = request();
    const summary = await sweep([entry()], 'request');
    expect(summary).toMatchObject({ published: 1, answered: 1, failed: 0 });
    const after = sets();
    expect(after).toHaveLength(2);
    const fresh = after.find((s) => s !== first)!;
    const manifest = bucket.json<ParameterManifest>(`${PREFIX}parameters/${fresh}/manifest.json`);
    expect(new Date(manifest.parametersValidTo).getTime()).toBe(T0 + 49 * HOUR);
    expect(manifest).toMatchObject({ keyArn: KEY_ARN, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(answer(name)).toMatchObject({ outcome: 'published', set: fresh, request: `${PREFIX}requests/${name}`, keyArn: KEY_ARN });
    expect(answer(name).sentence).toContain(`Published the fresh parameter set ${fresh}`);
    // S3 delivers the same event again a minute later: the answer stands, nothing is published.
    at(25.02);
    await sweep([entry()], 'request');
    expect(parametersCalls()).toBe(2);
    expect(answer(name)).toMatchObject({ outcome: 'published', set: fresh });
  });

  test('the expiration of the new set is the template\'s, whatever the request says', async () => {
    const validTo = inDays(90);
    await deploy(entry({ ValidTo: validTo }));
    at(25);
    request(undefined, JSON.stringify({ reason: 'x', ValidTo: inDays(300), expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    await sweep([entry({ ValidTo: validTo })], 'request');
    const fresh = sets().sort().pop()!;
    expect(bucket.json<ParameterManifest>(`${PREFIX}parameters/${fresh}/manifest.json`)).toMatchObject({ expirationModel: 'KEY_MATERIAL_EXPIRES', validTo });
  });

  test.each([
    ['holds the requested expiration', () => { state.key = holding(undefined); }, 'the key already holds material with the requested expiration'],
    ['is Disabled', () => { state.key = holding(undefined, 'Disabled'); }, 'the key is Disabled'],
    ['is PendingDeletion', () => { state.key = holding(undefined, 'PendingDeletion'); }, 'the key is PendingDeletion'],
  ])('a request for a key that %s publishes nothing and answers why', async (_, arrange, why) => {
    arrange();
    const name = request();
    await sweep([entry()], 'request');
    expect(parametersCalls()).toBe(0);
    expect(sets()).toHaveLength(0);
    expect(answer(name)).toMatchObject({ outcome: 'not-needed' });
    expect(answer(name).sentence).toContain(why);
  });

  test('a request met by a set with more than refreshBefore left is answered with that set, nothing published', async () => {
    await deploy();
    const [set] = sets();
    at(2);
    const name = request();
    await sweep([entry()], 'request');
    expect(parametersCalls()).toBe(1); // the deploy's
    expect(answer(name)).toMatchObject({ outcome: 'fresh', set });
    expect(answer(name).sentence).toMatch(/has 22\.0 hours left/);
  });

  test('a re-delivered request publishes once, even when the first run failed after publishing', async () => {
    await deploy();
    at(23);
    const name = request();
    // The first delivery publishes the set, then cannot write the answer (an S3 hiccup) and fails.
    const put = s3.on(PutObjectCommand);
    put.callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.includes('/results/answers/')) throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
      bucket.put(input.Key!, typeof input.Body === 'string' ? input.Body : Buffer.from(input.Body as Uint8Array));
      return {};
    });
    expect(await sweepError([entry()], 'request')).toContain(`The offline sweep failed for 1 of 1 keys (${KEY_ARN})`);
    expect(output.join('\n')).toMatch(/could not write s3:\/\/offline-parameters\/.*results\/answers\/.*SlowDown/);
    expect(parametersCalls()).toBe(2);
    bucket.install(s3);
    // EventBridge retries, then S3 delivers the same event again.
    await sweep([entry()], 'request');
    await sweep([entry()], 'request');
    expect(parametersCalls()).toBe(2);
    expect(sets()).toHaveLength(2);
    expect(answer(name)).toMatchObject({ outcome: 'fresh', set: sets().sort().pop() });
  });

  test('many requests at once: one set, each answered', async () => {
    at(30);
    const names = [0, 1, 2].map((i) => request(`2026-12-08T16:00:0${i}.000Z.json`));
    await sweep([entry()], 'request');
    expect(parametersCalls()).toBe(1);
    const [set] = sets();
    for (const name of names) expect(answer(name)).toMatchObject({ outcome: 'published', set });
  });

  test('a request larger than 4 KB is refused unread; other names under requests/ are not requests', async () => {
    const big = request('2026-12-07T10:00:00.000Z.json', `{"reason":"${'A'.repeat(5000)}"}`);
    bucket.put(`${PREFIX}requests/notes.txt`, 'hello');
    bucket.put(`${PREFIX}requests/../../other/2026-12-07T10:00:00.000Z.json`, '{}');
    await sweep([entry()], 'request');
    expect(answer(big)).toMatchObject({ outcome: 'refused' });
    expect(answer(big).sentence).toMatch(/more than the 4096 .* it was not read/);
    expect(bucket.keys(`${PREFIX}results/answers/`)).toEqual([`${PREFIX}results/answers/${big}`]);
    expect(output.join('\n')).not.toContain('AAAAAAAAAA');
  });

  test('a request older than a week is left alone', async () => {
    request('2026-11-29T10:00:00.000Z.json');
    await sweep([entry()], 'request');
    expect(bucket.keys(`${PREFIX}results/answers/`)).toEqual([]);
  });
});

describe('the schedule', () => {
  const OTHER = KEY_ARN.replace('1234abcd', '5678abcd');
  const THIRD = KEY_ARN.replace('1234abcd', '9012abcd');

  test('publishes only for keys awaiting their ceremony whose freshest set lapses within refreshBefore', async () => {
    const stale = kmsModel.addKey(OTHER); // awaiting, its set 5 hours from lapsing
    const satisfied = kmsModel.addKey(THIRD);
    for (const arn of [KEY_ARN, OTHER, THIRD]) await deploy(entry({ KeyArn: arn }));
    satisfied.force(holding(undefined), symmetricMaterial()); // imported since
    expect(parametersCalls()).toBe(3);
    at(19);
    const summary = await sweep([entry({ RefreshBefore: String(4 * 3600) }), entry({ KeyArn: OTHER }), entry({ KeyArn: THIRD })]);
    expect(summary).toMatchObject({ published: 1, unchanged: 2, failed: 0 });
    expect(sets(offlinePrefix(OTHER))).toHaveLength(2); // 5 h < 6 h (default)
    expect(sets()).toHaveLength(1); // 5 h >= 4 h (its own refreshBefore)
    expect(sets(offlinePrefix(THIRD))).toHaveLength(1); // satisfied
    expect(stale.keyState).toBe('PendingImport');
    // An hour later every key is fresh or satisfied, except the one at 4 h.
    at(20.5);
    await sweep([entry({ RefreshBefore: String(4 * 3600) }), entry({ KeyArn: OTHER }), entry({ KeyArn: THIRD })]);
    expect(sets()).toHaveLength(2);
    expect(sets(offlinePrefix(OTHER))).toHaveLength(2);
    expect(parametersCalls()).toBe(5);
  });

  test('a set published for another expiration than the deploy asks now is replaced', async () => {
    await deploy(entry({ ValidTo: inDays(90) }));
    at(1);
    await sweep([entry({ ValidTo: inDays(120) })]);
    expect(sets()).toHaveLength(2);
    const fresh = sets().sort().pop()!;
    expect(bucket.json<ParameterManifest>(`${PREFIX}parameters/${fresh}/manifest.json`).validTo).toBe(inDays(120));
  });

  test('one key\'s failure fails the run after the others were swept, with a sentence and a metric', async () => {
    kmsModel.addKey(OTHER);
    s3.on(ListObjectsV2Command, { Prefix: `${PREFIX}parameters/` }).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const message = await sweepError([entry(), entry({ KeyArn: OTHER })]);
    expect(message).toContain(`The offline sweep failed for 1 of 2 keys (${KEY_ARN})`);
    expect(sets(offlinePrefix(OTHER))).toHaveLength(1);
    expect(output.join('\n')).toContain(`could not list s3://${BUCKET}/${PREFIX}parameters/ (AccessDenied)`);
    expect(JSON.parse(metricLines('OfflineSweepFailures').pop()!)).toMatchObject({ OfflineSweepFailures: 1 });
  });
});

describe('the expiry reminder', () => {
  test('from remindBefore on: the metric each run, the event once a day, saying to deploy a later expiration when the deploy still asks this one', async () => {
    const validTo = inDays(31);
    state.key = holding(validTo);
    await sweep([entry({ ValidTo: validTo })]);
    expect(sentEvents()).toHaveLength(0);
    expect(metricLines(EXPIRING_METRIC)).toHaveLength(0);

    at(24 + 1); // 29.96 days left: within the 30 days
    await sweep([entry({ ValidTo: validTo })]);
    expect(sentEvents()).toHaveLength(1);
    const [event] = sentEvents();
    expect(event).toMatchObject({ Source: EXPIRING_EVENT.SOURCE, DetailType: EXPIRING_EVENT.DETAIL_TYPE, Resources: [KEY_ARN] });
    const detail = JSON.parse(event.Detail!) as Record<string, unknown>;
    expect(detail).toMatchObject({ keyArn: KEY_ARN, validTo: new Date(validTo).toISOString(), daysLeft: 29, requestedValidTo: validTo, parameterSet: null });
    expect(detail.action).toMatch(/The deploy still asks for this expiration: set a later KeyMaterialExpiration\.at\(date\) .* and deploy, which publishes a fresh parameter set/);
    expect(metricLines(EXPIRING_METRIC)).toHaveLength(1);
    expect(JSON.parse(metricLines(EXPIRING_METRIC)[0])).toMatchObject({ KeyId: KEY_ARN.split('/')[1], [EXPIRING_METRIC]: 1 });
    expect(parametersCalls()).toBe(0); // a set could not help: the import would bring the same date back

    at(25 + 12); // later the same day: the metric again, no second event
    await sweep([entry({ ValidTo: validTo })]);
    expect(sentEvents()).toHaveLength(1);
    expect(metricLines(EXPIRING_METRIC)).toHaveLength(2);
    at(25 + 24);
    await sweep([entry({ ValidTo: validTo })]);
    expect(sentEvents()).toHaveLength(2);
    expect(JSON.parse(sentEvents()[1].Detail!)).toMatchObject({ daysLeft: 28 });
  });

  test('when the deploy already asks for a later expiration, the reminder names the fresh set kept for it', async () => {
    state.key = holding(inDays(10));
    const later = inDays(200);
    await deploy(entry({ ValidTo: later })); // the deploy published a set for the new expiration
    const [set] = sets();
    await sweep([entry({ ValidTo: later })]);
    const detail = JSON.parse(sentEvents()[0].Detail!) as Record<string, unknown>;
    expect(detail).toMatchObject({ daysLeft: 10, requestedValidTo: later, parameterSet: `${PREFIX}parameters/${set}/` });
    expect(detail.action).toContain(`The deploy asks for a later expiration: the fresh parameter set ${set} is waiting`);
  });

  test('remindBefore of the entry decides; a never-expiring or lapsed material has no reminder', async () => {
    state.key = holding(inDays(10));
    await sweep([entry({ ValidTo: inDays(10), RemindBefore: String(7 * 86_400) })]);
    expect(sentEvents()).toHaveLength(0);
    state.key = holding(undefined);
    await sweep([entry()]);
    state.key = holding(inDays(1), 'PendingDeletion');
    await sweep([entry()]);
    expect(sentEvents()).toHaveLength(0);
    expect(metricLines(EXPIRING_METRIC)).toHaveLength(0);
  });

  test('a lost event is sent again on the next run', async () => {
    state.key = holding(inDays(5));
    events.on(PutEventsCommand).rejectsOnce(new Error('throttled')).resolves({ FailedEntryCount: 0 });
    await sweep([entry({ ValidTo: inDays(5) })]);
    at(1);
    await sweep([entry({ ValidTo: inDays(5) })]);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(bucket.keys(`${PREFIX}results/reminders/`)).toHaveLength(1);
  });
});

test('leak scan: no token, public key or request body in any answer, reminder, event or log line', async () => {
  state.key = holding(inDays(3));
  await deploy(entry({ ValidTo: inDays(100) }));
  at(20);
  request(undefined, '{"reason":"<script>secret-reason-text</script>"}');
  await sweep([entry({ ValidTo: inDays(100) })], 'request');
  const written = bucket.keys(`${PREFIX}results/`).map((k) => bucket.text(k)!);
  expect(written.length).toBeGreaterThanOrEqual(2);
  const everything = [...output, ...written, ...sentEvents().map((e) => e.Detail!)].join('\n');
  const der = wrapping.publicKeyDer;
  for (const secret of [TOKEN.toString('base64'), TOKEN.toString('hex'), TOKEN.toString('utf8'), der.toString('base64').slice(40, 100), der.toString('hex').slice(80, 200), 'secret-reason-text']) {
    expect(everything).not.toContain(secret);
  }
});
