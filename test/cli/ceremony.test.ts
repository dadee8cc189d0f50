/**
 * The operator CLI end to end on emulators: the handler's publish operation writes a real set
 * (local-kms parameters, moto S3); the bundled CLI downloads and verifies it and prints the recipe;
 * openssl runs the printed openssl recipe literally on 32 fresh bytes; `upload` checks and uploads
 * the blob and waits. To control what the CLI meets (a result, none, a refusal), this test plays
 * the handler: it imports the uploaded object with the published token (local-kms accepts it: the
 * blob is right) and writes `results/<set>.json`. The ceremony through the real handler is
 * test/emulator/offline-ceremony.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, ParameterManifest, withDefaults } from '../../lib/shared/contract';
import { publishParameters, OfflineClients } from '../../lambda/operations/publish-parameters';
import { EMULATOR_REGION } from '../../tools/emulators';
import { CLI, CliRun, runCli } from '../support/cli-runner';
import { OfflineEmulators } from '../support/offline-emulators';
import { opensslRecipe, runRecipe } from '../support/operator-cli';

const BUCKET = 'ceremonies';
const emulators = new OfflineEmulators(BUCKET, { versioned: true });
let clients: OfflineClients;
/** Everything the CLI printed, for the leak scan at the end. */
const transcript: string[] = [];
/** Bytes that must never appear in that output: tokens, public keys, blobs, material. */
const secrets: Buffer[] = [];

async function cli(args: string[]): Promise<CliRun> {
  const run = await runCli(args, { s3: emulators.s3Endpoint, kms: emulators.kmsEndpoint });
  transcript.push(run.stdout, run.stderr);
  return run;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run bundle.`);
  clients = emulators.clients;
});

async function read(key: string): Promise<{ body: Buffer; versionId?: string }> {
  const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { body: Buffer.from(await object.Body!.transformToByteArray()), versionId: object.VersionId };
}
async function list(prefix: string): Promise<string[]> {
  return ((await clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
}

/** An EXTERNAL key with one set published by the handler's publish operation; returns the key ARN and the set's name. */
async function keyWithSet(validTo?: string): Promise<{ keyArn: string; set: string }> {
  const keyArn = (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  await publishParameters(clients, withDefaults({ KeyArn: keyArn, ParameterBucket: BUCKET, WrappingKeySpec: 'RSA_2048', ValidTo: validTo }));
  const manifest = (await list(`${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`)).find((k) => k.endsWith(PARAMETER_FILE.MANIFEST))!;
  const set = manifest.split('/').slice(-2)[0];
  for (const file of [PARAMETER_FILE.IMPORT_TOKEN, PARAMETER_FILE.PUBLIC_KEY_DER]) {
    secrets.push((await read(`${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}${set}/${file}`)).body);
  }
  return { keyArn, set };
}

/** The handler's part, played by the test: wait for the upload, import it with the set's token, write the result. */
async function actAsHandler(keyArn: string, set: string, manifest: ParameterManifest): Promise<void> {
  const prefix = offlinePrefix(keyArn);
  const uploadKey = `${prefix}${OFFLINE_FOLDER.UPLOADS}${set}/wrapped-material.bin`;
  const deadline = Date.now() + 20_000;
  while (!(await list(uploadKey)).includes(uploadKey)) {
    if (Date.now() > deadline) throw new Error('the CLI never uploaded');
    await new Promise((r) => setTimeout(r, 100));
  }
  const uploaded = await read(uploadKey);
  secrets.push(uploaded.body);
  const token = (await read(`${prefix}${OFFLINE_FOLDER.PARAMETERS}${set}/${PARAMETER_FILE.IMPORT_TOKEN}`)).body;
  const imported = await clients.kms.send(new ImportKeyMaterialCommand({
    KeyId: keyArn, ImportToken: token, EncryptedKeyMaterial: uploaded.body, ExpirationModel: manifest.expirationModel,
    ValidTo: manifest.validTo ? new Date(manifest.validTo) : undefined,
  }));
  const key = (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
  const result = {
    keyArn, set, upload: { key: uploadKey, versionId: uploaded.versionId }, outcome: 'imported', keyState: key.KeyState,
    sentence: `imported the material of ${set} into ${keyArn}; the key is ${key.KeyState}`,
    keyMaterialId: imported.KeyMaterialId ?? key.CurrentKeyMaterialId ?? 'local-kms-reports-none', at: new Date().toISOString(),
  };
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${OFFLINE_FOLDER.RESULTS}${set}.json`, Body: JSON.stringify(result) }));
}

/** The handler's refusal, played by the test: the next new version of the upload gets a `refused` result. */
async function uploadVersions(uploadKey: string): Promise<string[]> {
  return ((await clients.s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: uploadKey }))).Versions ?? []).map((v) => v.VersionId!);
}
async function refuseNextUpload(keyArn: string, set: string, known: string[]): Promise<void> {
  const uploadKey = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.UPLOADS}${set}/wrapped-material.bin`;
  const versions = () => uploadVersions(uploadKey);
  const deadline = Date.now() + 20_000;
  let fresh: string | undefined;
  while (!(fresh = (await versions()).find((v) => !known.includes(v)))) {
    if (Date.now() > deadline) throw new Error('the CLI never uploaded a new version');
    await new Promise((r) => setTimeout(r, 100));
  }
  const result = { keyArn, set, upload: { key: uploadKey, versionId: fresh }, outcome: 'refused', keyState: 'Enabled',
    sentence: `the key already holds material; set ${set} was used`, at: new Date().toISOString() };
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.RESULTS}${set}.json`, Body: JSON.stringify(result) }));
}

test('parameters writes the verified set and a recipe; openssl runs it literally; upload refuses a truncated blob, then uploads and prints the result', async () => {
  const validTo = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const { keyArn, set } = await keyWithSet(validTo);
  const out = mkdtempSync(join(tmpdir(), 'cli-set-'));
  const run = await cli(['parameters', '--bucket', BUCKET, '--key', keyArn, '--out', out, '--min-hours', '1']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`Parameter set ${set} for ${keyArn}`);
  expect(run.stdout).toContain('SYMMETRIC_DEFAULT, wrapped with RSAES_OAEP_SHA_256 under RSA_2048');
  expect(run.stdout).toContain('The HSM must support: CKM_RSA_PKCS_OAEP with SHA256 and MGF1-SHA256');
  expect(run.stdout).toContain('key wrap rsa-oaep --payload-filter');
  expect(run.stdout).toContain('A YubiHSM 2 cannot wrap for RSAES_OAEP_SHA_256');
  expect(run.stdout).not.toContain('requested a fresh set');
  const manifest = JSON.parse(readFileSync(join(out, PARAMETER_FILE.MANIFEST), 'utf8')) as ParameterManifest;
  for (const file of [PARAMETER_FILE.PUBLIC_KEY_DER, PARAMETER_FILE.PUBLIC_KEY_PEM, PARAMETER_FILE.IMPORT_TOKEN]) {
    expect(createHash('sha256').update(readFileSync(join(out, file))).digest('hex')).toBe(manifest.sha256[file]);
  }

  // openssl as the HSM, running the printed commands as they are.
  const recipe = opensslRecipe(run.stdout);
  expect(recipe).toEqual([expect.stringMatching(/^openssl pkeyutl -encrypt -pubin -inkey '.+wrapping-public-key\.pem' -in material\.bin -out wrapped-material\.bin -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256$/)]);
  const hsm = mkdtempSync(join(tmpdir(), 'hsm-'));
  const material = randomBytes(32);
  secrets.push(material);
  writeFileSync(join(hsm, 'material.bin'), material);
  await runRecipe(recipe, hsm);
  const blob = readFileSync(join(hsm, 'wrapped-material.bin'));
  expect(blob).toHaveLength(256);

  // A truncated blob is refused before anything is uploaded.
  writeFileSync(join(hsm, 'truncated.bin'), blob.subarray(0, 200));
  const truncated = await cli(['upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'truncated.bin'), '--wait', '5']);
  expect(truncated.code).toBe(1);
  expect(truncated.stderr).toMatch(/cannot be a wrap for set .+: RSAES_OAEP_SHA_256 under RSA_2048 gives exactly 256 bytes, and the file has 200\. Nothing was uploaded/);
  expect(await list(`${offlinePrefix(keyArn)}${OFFLINE_FOLDER.UPLOADS}`)).toEqual([]);

  // The right blob: uploaded to the agreed key; the "handler" imports it and writes the result the CLI waits for.
  const [uploaded] = await Promise.all([
    cli(['upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'wrapped-material.bin'), '--wait', '30', '--interval', '0.2', '--json']),
    actAsHandler(keyArn, set, manifest),
  ]);
  expect(uploaded.stderr).toBe('');
  expect(uploaded.code).toBe(0);
  const result = JSON.parse(uploaded.stdout) as { outcome: string; keyState: string; keyMaterialId: string; upload: { key: string } };
  expect(result).toMatchObject({ outcome: 'imported', keyState: 'Enabled', upload: { key: `${offlinePrefix(keyArn)}uploads/${set}/wrapped-material.bin` } });
  expect(result.keyMaterialId).toBeTruthy();
  const ciphertext = (await clients.kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('ceremony') }))).CiphertextBlob!;
  expect(Buffer.from((await clients.kms.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext!).toString()).toBe('ceremony');

  // status reads it all back from S3: the set, one upload, the handler's result.
  const shown = await cli(['status', '--bucket', BUCKET, '--key', keyArn]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(new RegExp(`freshest set ${set} \\(1 complete\\): valid until .+, 2\\d\\.\\d hours left`));
  expect(shown.stdout).toContain('1 upload(s), 0 refresh request(s)');
  expect(shown.stdout).toContain(`imported: imported the material of ${set} into ${keyArn}; the key is Enabled (KeyMaterialId ${result.keyMaterialId})`);

  // Nobody writes a result: --wait ends with exit 4 (after uploading again, as a new version).
  const nobody = await cli(['upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'wrapped-material.bin'), '--wait', '1', '--interval', '0.2']);
  expect(nobody.code).toBe(4);
  expect(nobody.stderr).toMatch(/no result for this upload appeared at .+ within 1 s/);

  // The handler refuses: the CLI prints its sentence and exits 1.
  const known = await uploadVersions(result.upload.key);
  expect(known).toHaveLength(2);
  const [refused] = await Promise.all([
    cli(['upload', '--bucket', BUCKET, '--key', keyArn, '--file', join(hsm, 'wrapped-material.bin'), '--wait', '30', '--interval', '0.2']),
    refuseNextUpload(keyArn, set, known),
  ]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(new RegExp(`^Refused: the key already holds material; set ${set} was used\n  key state Enabled\n  upload s3://`));
}, 90_000);

test('a lapsed set, a set that does not match its manifest, and a short-lived set', async () => {
  // Lapsed: the manifest says ParametersValidTo has passed.
  const lapsed = await keyWithSet();
  const manifestKey = `${offlinePrefix(lapsed.keyArn)}${OFFLINE_FOLDER.PARAMETERS}${lapsed.set}/${PARAMETER_FILE.MANIFEST}`;
  const manifest = JSON.parse((await read(manifestKey)).body.toString()) as ParameterManifest;
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey, Body: JSON.stringify({ ...manifest, parametersValidTo: new Date(Date.now() - 60_000).toISOString() }) }));
  const out = mkdtempSync(join(tmpdir(), 'cli-set-'));
  const run = await cli(['parameters', '--bucket', BUCKET, '--key', lapsed.keyArn, '--out', out, '--json']);
  expect(run.code).toBe(1);
  const failure = JSON.parse(run.stdout) as { exitCode: number; error: string };
  expect(Object.keys(failure).sort()).toEqual(['error', 'exitCode']);
  expect(failure.exitCode).toBe(1);
  expect(failure.error).toMatch(/lapsed at .+: KMS would refuse a blob wrapped under it\. Requested a fresh one at s3:\/\/ceremonies\/.+\/requests\/.+\.json/);
  const requests = await list(`${offlinePrefix(lapsed.keyArn)}${OFFLINE_FOLDER.REQUESTS}`);
  expect(requests).toHaveLength(1);
  const request = JSON.parse((await read(requests[0])).body.toString()) as { reason: string };
  expect(Object.keys(request)).toEqual(['reason']);
  expect(request.reason).toMatch(/^the freshest set .+ lapsed at /);
  writeFileSync(join(out, 'blob.bin'), randomBytes(256));
  const upload = await cli(['upload', '--bucket', BUCKET, '--key', lapsed.keyArn, '--file', join(out, 'blob.bin')]);
  expect(upload.code).toBe(1);
  expect(upload.stderr).toMatch(/lapsed at .+: KMS would refuse its token\. Nothing was uploaded/);
  expect(await list(`${offlinePrefix(lapsed.keyArn)}${OFFLINE_FOLDER.UPLOADS}`)).toEqual([]);

  // Altered: the public key is not the one the manifest hashed; nothing is written to --out.
  const altered = await keyWithSet();
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${offlinePrefix(altered.keyArn)}${OFFLINE_FOLDER.PARAMETERS}${altered.set}/${PARAMETER_FILE.PUBLIC_KEY_PEM}`, Body: 'not the key' }));
  const alteredOut = join(mkdtempSync(join(tmpdir(), 'cli-set-')), 'out');
  const mismatch = await cli(['parameters', '--bucket', BUCKET, '--key', altered.keyArn, '--out', alteredOut]);
  expect(mismatch.code).toBe(1);
  expect(mismatch.stderr).toMatch(/wrapping-public-key\.pem of set .+ does not match the SHA-256 in its manifest .+do not wrap under it/);
  expect(existsSync(alteredOut)).toBe(false);

  // Fewer hours left than asked: the files and recipe, and a request for a fresh set.
  const short = await keyWithSet();
  const shortRun = await cli(['parameters', '--bucket', BUCKET, '--key', short.keyArn, '--out', mkdtempSync(join(tmpdir(), 'cli-set-')), '--min-hours', '25', '--json']);
  expect(shortRun.code).toBe(0);
  const parsed = JSON.parse(shortRun.stdout) as { refreshRequested: string; set: string; recipe: { openssl: string[] } };
  expect(parsed.set).toBe(short.set);
  expect(parsed.refreshRequested).toMatch(new RegExp(`^${offlinePrefix(short.keyArn)}requests/.+\\.json$`));
  expect(await list(parsed.refreshRequested)).toEqual([parsed.refreshRequested]);
  expect(parsed.recipe.openssl).toHaveLength(1);
});

test('usage errors exit 2; a key with no set exits 1 and asks for one', async () => {
  const noKey = await cli(['parameters', '--bucket', BUCKET]);
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain("required option '--key <arn>' not specified");
  expect((await cli(['parameters', '--bucket', BUCKET, '--key', 'arn:aws:kms:eu-west-2:111122223333:key/x', '--min-hours', 'soon'])).code).toBe(2);
  expect((await cli(['parameters', '--bucket', BUCKET, '--key', 'alias/mine'])).stderr).toContain('pass --region to resolve it with kms:DescribeKey');
  expect((await cli(['upload', '--bucket', BUCKET, '--key', 'arn:aws:kms:eu-west-2:111122223333:key/x', '--file', '/no/such/blob'])).code).toBe(2);
  expect((await cli(['nonsense'])).code).toBe(2);
  const keyArn = (await clients.kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!.Arn!;
  const none = await cli(['parameters', '--bucket', BUCKET, '--key', keyArn]);
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/No complete parameter set for .+ yet \(a deploy publishes one\); requested one at/);
  // An alias resolves through kms:DescribeKey when the caller may call it (here local-kms).
  const named = await keyWithSet();
  await clients.kms.send(new CreateAliasCommand({ AliasName: 'alias/ceremony', TargetKeyId: named.keyArn }));
  const byAlias = await cli(['parameters', '--bucket', BUCKET, '--key', 'alias/ceremony', '--region', EMULATOR_REGION, '--out', mkdtempSync(join(tmpdir(), 'cli-set-')), '--json']);
  expect(byAlias.code).toBe(0);
  expect(JSON.parse(byAlias.stdout)).toMatchObject({ keyArn: named.keyArn, set: named.set });
  const missingBucket = await cli(['parameters', '--bucket', 'no-such-bucket', '--key', keyArn]);
  expect(missingBucket.code).toBe(3);
  expect(missingBucket.stderr).toMatch(/Listing s3:\/\/no-such-bucket\/.+ failed \(NoSuchBucket/);
});

test('docs/offline-wrapping.md shows each command\'s --help as the CLI prints it', async () => {
  const docs = readFileSync(resolve(__dirname, '..', '..', 'docs', 'offline-wrapping.md'), 'utf8');
  for (const args of [['--help'], ['parameters', '--help'], ['upload', '--help'], ['status', '--help'], ['verify', '--help']]) {
    const run = await cli(args);
    expect(run.code).toBe(0);
    expect(docs).toContain(`\`\`\`text\n$ npx imported-kms-key ${args.join(' ')}\n${run.stdout}\`\`\``);
  }
});

test('leak scan: no token, public key, blob or material in anything the CLI printed', () => {
  expect(secrets.length).toBeGreaterThan(4);
  const printed = transcript.join('\n');
  for (const secret of secrets) {
    for (const encoded of [secret.toString('base64').slice(0, 24), secret.toString('hex').slice(0, 24), secret.toString('base64url').slice(0, 24)]) {
      expect(printed).not.toContain(encoded);
    }
  }
});
