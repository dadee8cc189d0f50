/**
 * `status --all | --key | --stack` against local-kms (KMS) and moto (S3): keys in several states,
 * tagged as the construct tags them, an offline key's set published by the handler's publish
 * operation and a result in its bucket. The bundled CLI runs in a child process; --stack runs the
 * same command in-process with CloudFormation mocked (aws-sdk-client-mock), KMS and S3 still the
 * emulators: no CloudFormation emulator here lists a stack whose keys live in local-kms.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient, type Tag,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { keyStatus, type KeyStatus } from '../../cli/key-status';
import { CliError } from '../../cli/output';
import { publishParameters } from '../../lambda/operations/publish-parameters';
import { IMPORT_RESOURCE_TYPE, KEY_TAG, MATERIAL_SOURCE, OFFLINE_FOLDER, offlinePrefix, withDefaults } from '../../lib/shared/contract';
import { EMULATOR_REGION, Server, startLocalKms, startMoto } from '../../tools/emulators';
import { CLI, runCli } from '../support/cli-runner';
import { expectNoLeak } from '../support/keys';

const BUCKET = 'status-ceremonies';
const DAY = 86_400_000;
let kmsServer: Server;
let moto: Server;
let kms: KMSClient;
let s3: S3Client;
/** Everything the CLI printed, for the leak scan. */
const transcript: string[] = [];
const cli = async (args: string[]) => {
  const run = await runCli(args, { s3: moto.endpoint, kms: kmsServer.endpoint });
  transcript.push(run.stdout, run.stderr);
  return run;
};
const materials: Buffer[] = [];
const keys: Record<'pending' | 'offline' | 'disabled' | 'generated', string> = { pending: '', offline: '', disabled: '', generated: '' };

const tags = (source: string, bucket?: string): Tag[] => [
  { TagKey: KEY_TAG.MATERIAL_SOURCE, TagValue: source }, ...(bucket ? [{ TagKey: KEY_TAG.PARAMETER_BUCKET, TagValue: bucket }] : []),
];

/** Whole seconds, as the handler sends ValidTo (local-kms answers a fractional one with "KeyId is a required parameter"). */
const inDays = (days: number) => new Date(Math.floor((Date.now() + days * DAY) / 1000) * 1000);

/** Imports 32 random bytes into the key (RSAES_OAEP_SHA_256, as the handler would), expiring at validTo. */
async function importInto(keyArn: string, validTo: Date): Promise<void> {
  const { PublicKey, ImportToken } = await kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const material = randomBytes(32);
  materials.push(material, Buffer.from(ImportToken!));
  const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  await kms.send(new ImportKeyMaterialCommand({ KeyId: keyArn, ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }));
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run bundle.`);
  [kmsServer, moto] = await Promise.all([startLocalKms(), startMoto()]);
  const config = { region: EMULATOR_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  kms = new KMSClient({ ...config, endpoint: kmsServer.endpoint });
  s3 = new S3Client({ ...config, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: EMULATOR_REGION } }));
  const create = async (source: string, bucket?: string) => (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', Tags: tags(source, bucket) }))).KeyMetadata!.Arn!;
  // PendingImport: a Secrets Manager key whose material never arrived.
  keys.pending = await create(MATERIAL_SOURCE.SECRETS_MANAGER);
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/pending', TargetKeyId: keys.pending }));
  // Enabled, offline, expiring in 10 days; a set and the handler's result in its bucket.
  keys.offline = await create(MATERIAL_SOURCE.OFFLINE_WRAPPING, BUCKET);
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/offline', TargetKeyId: keys.offline }));
  await importInto(keys.offline, inDays(10));
  const secrets = new SecretsManagerClient({ ...config, endpoint: moto.endpoint });
  await publishParameters({ kms, s3, secrets }, withDefaults({ KeyArn: keys.offline, ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048' }));
  secrets.destroy();
  await s3.send(new PutObjectCommand({
    Bucket: BUCKET, Key: `${offlinePrefix(keys.offline)}${OFFLINE_FOLDER.RESULTS}earlier-set.json`,
    Body: JSON.stringify({ keyArn: keys.offline, set: 'earlier-set', upload: { key: 'u', versionId: 'v' }, outcome: 'imported', sentence: 'imported the material', keyMaterialId: 'id-from-the-result', at: new Date().toISOString() }),
  }));
  // Disabled by an operator, expiring in 200 days.
  keys.disabled = await create(MATERIAL_SOURCE.SECRETS_MANAGER);
  await importInto(keys.disabled, inDays(200));
  await kms.send(new DisableKeyCommand({ KeyId: keys.disabled }));
  // KMS-generated: never listed.
  keys.generated = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
}, 60_000);

afterAll(async () => {
  kms?.destroy();
  s3?.destroy();
  await Promise.all([kmsServer?.stop(), moto?.stop()]);
});

const idOf = (arn: string) => arn.split('/').pop()!;

test('status --all lists each imported key with its state, expiration, mode and offline bucket, and exits 1 when one needs attention', async () => {
  const run = await cli(['status', '--all', '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(1);
  const out = JSON.parse(run.stdout) as { keys: KeyStatus[]; warnDays: number };
  expect(out.warnDays).toBe(30);
  const byArn = Object.fromEntries(out.keys.map((k) => [k.keyArn, k]));
  expect(Object.keys(byArn).sort()).toEqual([keys.pending, keys.offline, keys.disabled].sort());
  expect(byArn[keys.pending]).toMatchObject({
    keyId: idOf(keys.pending), aliases: ['alias/pending'], keyState: 'PendingImport', mode: 'secrets-manager',
    attention: [expect.stringMatching(/^PendingImport: no material yet, or it expired or was deleted \(deploy again/)],
  });
  expect(byArn[keys.offline]).toMatchObject({
    aliases: ['alias/offline'], keyState: 'Enabled', mode: 'offline-wrapping', bucket: BUCKET, expirationModel: 'KEY_MATERIAL_EXPIRES',
    offline: { completeSets: 1, lastResult: { outcome: 'imported', keyMaterialId: 'id-from-the-result' } },
    attention: [expect.stringMatching(/^its material expires at .+, in (9\.9|10\.0) days \(fewer than --warn-days 30\)$/)],
  });
  expect(byArn[keys.offline].daysLeft).toBeCloseTo(10, 0);
  expect(byArn[keys.offline].offline!.hoursLeft).toBeGreaterThan(23);
  expect(byArn[keys.disabled]).toMatchObject({ keyState: 'Disabled', mode: 'secrets-manager', attention: [] });
  expect(byArn[keys.disabled].daysLeft).toBeCloseTo(200, 0);
  expect(byArn[keys.disabled].bucket).toBeUndefined();
});

test('the human table: one row per key, the offline summary and the reasons below it', async () => {
  const run = await cli(['status', '--all']);
  expect(run.code).toBe(1);
  const lines = run.stdout.split('\n');
  expect(lines[0]).toBe(`3 imported key(s) in ${EMULATOR_REGION}; 2 need attention (--warn-days 30).`);
  expect(lines[2]).toMatch(/^KEY +ALIASES +STATE +MODE +EXPIRES +DAYS LEFT +KEY MATERIAL$/);
  const row = (arn: string) => lines.find((l) => l.startsWith(idOf(arn)))!.split(/ {2,}/);
  expect(row(keys.pending)).toEqual([idOf(keys.pending), 'alias/pending', 'PendingImport', 'secrets-manager', '-', '-', '-']);
  expect(row(keys.disabled)).toEqual([idOf(keys.disabled), '-', 'Disabled', 'secrets-manager', expect.stringMatching(/^20\d\d-.+Z$/), expect.stringMatching(/^(199\.9|200\.0)$/), '-']);
  expect(row(keys.offline).slice(0, 4)).toEqual([idOf(keys.offline), 'alias/offline', 'Enabled', 'offline-wrapping']);
  expect(run.stdout).toMatch(new RegExp(`${keys.offline}\n  s3://${BUCKET}: freshest set .+ \\(1 complete\\): valid until .+, 2\\d\\.\\d hours left; last result \\(.+\\): imported: imported the material \\(KeyMaterialId id-from-the-result\\)\n  needs attention: its material expires`));
  expect(run.stdout).toContain(`${keys.pending}\n  needs attention: PendingImport`);
  expect(run.stdout).not.toContain(keys.generated);
});

test('--warn-days and --key: a key expiring after the warning window, or disabled, needs no attention (exit 0)', async () => {
  const offline = await cli(['status', '--key', keys.offline, '--warn-days', '5', '--json']);
  expect(offline.code).toBe(0);
  expect((JSON.parse(offline.stdout) as { keys: KeyStatus[] }).keys).toEqual([expect.objectContaining({ keyArn: keys.offline, attention: [] })]);
  const byAlias = await cli(['status', '--key', 'alias/offline', '--warn-days', '11']);
  expect(byAlias.code).toBe(1);
  expect(byAlias.stdout).toContain('1 imported key(s) (--key alias/offline); 1 need attention (--warn-days 11).');
  expect((await cli(['status', '--key', keys.disabled])).code).toBe(0);
  // The S3-only form of one key still works, with no KMS call (the operator's view).
  const s3Only = await cli(['status', '--bucket', BUCKET, '--key', keys.offline]);
  expect(s3Only.code).toBe(0);
  expect(s3Only.stdout).toMatch(/^Key .+ in s3:\/\/status-ceremonies\/.+\n {2}freshest set .+ \(1 complete\)/);
});

test('usage errors exit 2, an unknown key exits 3', async () => {
  expect((await cli(['status'])).code).toBe(2);
  expect((await cli(['status', '--all', '--stack', 'x'])).stderr).toContain('status needs exactly one of --stack <name>, --all or --key <arn>');
  expect((await cli(['status', '--all', '--warn-days', 'soon'])).code).toBe(2);
  const unknown = await cli(['status', '--key', 'arn:aws:kms:eu-west-2:111122223333:key/00000000-0000-0000-0000-000000000000']);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toMatch(/Describing .+ with kms:DescribeKey failed \(NotFoundException/);
});

describe('status --stack (CloudFormation mocked, KMS and S3 the emulators)', () => {
  const cfn = mockClient(CloudFormationClient);
  let printed: string[];
  beforeEach(() => {
    cfn.reset();
    printed = [];
    process.env.AWS_ENDPOINT_URL_KMS = kmsServer.endpoint;
    process.env.AWS_ENDPOINT_URL_S3 = moto.endpoint;
    process.env.AWS_REGION = EMULATOR_REGION;
    process.env.AWS_ACCESS_KEY_ID = 'emulator';
    process.env.AWS_SECRET_ACCESS_KEY = 'emulator';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => { printed.push(String(chunk)); return true; });
  });
  afterEach(() => {
    transcript.push(...printed);
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });
  afterAll(() => cfn.restore());

  test('the stack\'s keys, its import resources\' keys (adopted), not its KMS-generated keys nor other resources', async () => {
    cfn.on(ListStackResourcesCommand, { StackName: 'Payments' }).resolvesOnce({
      StackResourceSummaries: [
        { LogicalResourceId: 'KeyA', ResourceType: 'AWS::KMS::Key', PhysicalResourceId: idOf(keys.offline), ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
        { LogicalResourceId: 'KeyG', ResourceType: 'AWS::KMS::Key', PhysicalResourceId: idOf(keys.generated), ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
        { LogicalResourceId: 'Bucket', ResourceType: 'AWS::S3::Bucket', PhysicalResourceId: BUCKET, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
      ],
      NextToken: 'page2',
    }).on(ListStackResourcesCommand, { StackName: 'Payments', NextToken: 'page2' }).resolvesOnce({
      StackResourceSummaries: [
        { LogicalResourceId: 'KeyAImport', ResourceType: IMPORT_RESOURCE_TYPE, PhysicalResourceId: keys.offline, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
        { LogicalResourceId: 'AdoptedImport', ResourceType: IMPORT_RESOURCE_TYPE, PhysicalResourceId: keys.disabled, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
      ],
    });
    await keyStatus({ stack: 'Payments', warnDays: 5, json: true });
    const out = JSON.parse(printed.join('')) as { scope: unknown; keys: KeyStatus[] };
    expect(out.scope).toEqual({ stack: 'Payments' });
    expect(out.keys.map((k) => [k.keyArn, k.mode, k.attention.length]).sort()).toEqual([[keys.offline, 'offline-wrapping', 0], [keys.disabled, 'secrets-manager', 0]].sort());
    expect(process.exitCode).toBeUndefined();
    expect(cfn.commandCalls(ListStackResourcesCommand)).toHaveLength(2);
  });

  test('a stack that does not exist is an AWS error (exit 3) naming the call', async () => {
    cfn.on(ListStackResourcesCommand).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const error = await keyStatus({ stack: 'Nope', warnDays: 30, json: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 3, message: expect.stringMatching(/^Listing the resources of stack Nope with cloudformation:ListStackResources failed \(ValidationError: Stack with id Nope does not exist\)/) as string });
  });
});

test('leak scan: no material or import token in anything the CLI printed', () => {
  expect(materials.length).toBeGreaterThan(3);
  expectNoLeak(transcript.join('\n'), ...materials);
});
