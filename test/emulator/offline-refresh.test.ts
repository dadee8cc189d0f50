/**
 * Offline wrapping, a refresh request end to end on emulators (local-kms, moto S3 and EventBridge):
 * the bundled CLI finds no usable set and writes `requests/<ISO>.json`; the test plays EventBridge
 * (no emulator delivers S3 events to a Lambda, docs/emulators.md) and runs the handler's sweep with
 * the key's template entry as the request rule would; the sweep publishes a fresh set through
 * GetParametersForImport and answers; the CLI, waiting, downloads that set and verifies it. For a
 * key that holds its material, the answer says why nothing was published and the CLI exits 1.
 */
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OFFLINE_FOLDER, OfflineKeyEntry, offlinePrefix, PARAMETER_FILE, ParameterManifest, RefreshAnswer } from '../../lib/shared/contract';
import type { UploadClients } from '../../lambda/operations/import-upload';
import { sweepOffline } from '../../lambda/operations/offline-sweep';
import { EMULATOR_REGION, Server, startLocalKms, startMoto } from '../../tools/emulators';
import { runCli } from '../support/cli-runner';

const BUCKET = 'refresh-ceremonies';
let kmsServer: Server;
let moto: Server;
let clients: UploadClients;
const logged: string[] = [];

beforeAll(async () => {
  [kmsServer, moto] = await Promise.all([startLocalKms(), startMoto()]);
  const config = { region: EMULATOR_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  clients = {
    kms: new KMSClient({ ...config, endpoint: kmsServer.endpoint }),
    secrets: new SecretsManagerClient({ ...config, endpoint: moto.endpoint }),
    s3: new S3Client({ ...config, endpoint: moto.endpoint, forcePathStyle: true }),
    events: new EventBridgeClient({ ...config, endpoint: moto.endpoint }),
    kmsIn: () => clients.kms,
  };
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: EMULATOR_REGION } }));
  await clients.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
});
afterAll(async () => {
  for (const client of [clients?.kms, clients?.s3, clients?.secrets, clients?.events]) client?.destroy();
  await Promise.all([kmsServer?.stop(), moto?.stop()]);
});

const cli = (args: string[]) => runCli(args, { s3: moto.endpoint, kms: kmsServer.endpoint });
const entry = (keyArn: string): OfflineKeyEntry => ({ KeyArn: keyArn, ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048' });
const keys = async (prefix: string) => ((await clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
const read = async (key: string) => Buffer.from(await (await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());

/** EventBridge's part: once a request object is there, invoke the sweep as the bucket's request rule does, with the key's entry. */
async function deliverRequest(keyArn: string): Promise<string> {
  const prefix = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.REQUESTS}`;
  const deadline = Date.now() + 20_000;
  let requests: string[];
  while ((requests = await keys(prefix)).length === 0) {
    if (Date.now() > deadline) throw new Error('the CLI never wrote a request');
    await new Promise((r) => setTimeout(r, 100));
  }
  await sweepOffline(clients, 'request', [entry(keyArn)], (line) => logged.push(JSON.stringify(line)));
  return requests[0];
}

test('a request the CLI writes produces a fresh set, which the waiting CLI downloads and verifies', async () => {
  const keyArn = (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  const out = mkdtempSync(join(tmpdir(), 'refresh-set-'));
  const [run, request] = await Promise.all([
    cli(['parameters', '--bucket', BUCKET, '--key', keyArn, '--out', out, '--wait', '30', '--interval', '0.2', '--json']),
    deliverRequest(keyArn),
  ]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const printed = JSON.parse(run.stdout) as { set: string; hoursLeft: number; refreshRequested: string; refreshAnswer: RefreshAnswer };
  expect(printed.refreshRequested).toBe(request);
  expect(printed.refreshAnswer).toMatchObject({ outcome: 'published', set: printed.set, request, keyArn });
  expect(printed.hoursLeft).toBeGreaterThan(23);
  // The set the CLI wrote is the one the sweep published in S3, byte for byte, with the handler's manifest.
  const setPrefix = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}${printed.set}/`;
  const manifest = JSON.parse((await read(`${setPrefix}${PARAMETER_FILE.MANIFEST}`)).toString()) as ParameterManifest;
  expect(manifest).toMatchObject({ keyArn, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', wrappingKeySpec: 'RSA_2048' });
  const token = readFileSync(join(out, PARAMETER_FILE.IMPORT_TOKEN));
  expect(createHash('sha256').update(token).digest('hex')).toBe(manifest.sha256[PARAMETER_FILE.IMPORT_TOKEN]);
  expect(token.equals(await read(`${setPrefix}${PARAMETER_FILE.IMPORT_TOKEN}`))).toBe(true);
  // A second delivery of the same request publishes nothing more.
  await sweepOffline(clients, 'request', [entry(keyArn)], (line) => logged.push(JSON.stringify(line)));
  expect((await keys(`${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`)).filter((k) => k.endsWith(PARAMETER_FILE.MANIFEST))).toHaveLength(1);
  // Leak scan: the token and the public key are in S3 and --out only.
  const der = readFileSync(join(out, PARAMETER_FILE.PUBLIC_KEY_DER));
  const everything = [run.stdout, run.stderr, ...logged, (await read(`${offlinePrefix(keyArn)}results/answers/${request.split('/').pop()}`)).toString()].join('\n');
  for (const secret of [token.toString('base64').slice(0, 60), token.toString('hex').slice(0, 80), der.toString('base64').slice(40, 100)]) expect(everything).not.toContain(secret);
});

test('for a key that holds its material, the answer says why no set was published and the CLI exits 1 with it', async () => {
  const keyArn = (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  const parameters = await clients.kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
  await clients.kms.send(new ImportKeyMaterialCommand({ KeyId: keyArn, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  const [run] = await Promise.all([
    cli(['parameters', '--bucket', BUCKET, '--key', keyArn, '--out', mkdtempSync(join(tmpdir(), 'refresh-none-')), '--wait', '30', '--interval', '0.2']),
    deliverRequest(keyArn),
  ]);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/No complete parameter set .* The handler answered: No parameter set was published: the key already holds material with the requested expiration/);
  expect(await keys(`${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`)).toEqual([]);
});

test('the reminder reads local-kms\'s ValidTo: within remindBefore the sweep puts the event on moto\'s bus and records it, once', async () => {
  const keyArn = (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  const validTo = new Date(Math.floor(Date.now() / 1000) * 1000 + 10 * 86_400_000);
  const parameters = await clients.kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(parameters.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
  await clients.kms.send(new ImportKeyMaterialCommand({ KeyId: keyArn, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }));
  const keyEntry = { ...entry(keyArn), ValidTo: validTo.toISOString().replace('.000Z', 'Z') };
  const lines: Array<{ reminded?: string; outcome?: string }> = [];
  await sweepOffline(clients, 'schedule', [keyEntry], (line) => lines.push(line));
  await sweepOffline(clients, 'schedule', [keyEntry], (line) => lines.push(line));
  expect(lines.map((l) => l.reminded)).toEqual(['event', 'metric']);
  const record = JSON.parse((await read(`${offlinePrefix(keyArn)}results/reminders/${validTo.toISOString()}.json`)).toString()) as { daysLeft: number; action: string };
  expect(record.daysLeft).toBe(9);
  expect(record.action).toMatch(/The deploy still asks for this expiration: set a later KeyMaterialExpiration\.at\(date\)/);
  expect(await keys(`${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`)).toEqual([]);
});
