/**
 * The offline-wrapping ceremony on emulators, for test/emulator/offline-ceremony*.test.ts: moto's
 * S3 holds a versioned parameter bucket (passed to the stack by name) and serves EventBridge's
 * PutEvents; the harness's KMS (local-kms or LocalStack) holds the keys. The handler bundle runs
 * the Create that publishes each set and the upload events; the bundled CLI and openssl do the
 * operator's and the HSM's part. No emulator delivers S3 -> EventBridge -> Lambda, so `deliver`
 * does what the stack's rule does: it sends S3's "Object Created" event, in the shape the S3 user
 * guide documents for EventBridge, to the handler.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, UPLOAD_FILE, UploadResult } from '../../lib/shared/contract';
import type { S3ObjectCreatedEvent, UploadOutcome } from '../../lambda/operations/import-upload';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { EmulatorHarness } from './emulator-harness';
import { CliRun, runCli } from './cli-runner';
import { opensslRecipe, runRecipe } from './operator-cli';

export class OfflineCeremony {
  public s3!: S3Client;
  public events!: EventBridgeClient;
  public deployment!: EmulatedDeployment;
  /** Everything the CLI printed. */
  public readonly transcript: string[] = [];
  /** Bytes that must never appear anywhere: tokens, public keys, blobs, material. */
  public readonly secrets: Buffer[] = [];

  /** Registers a beforeAll (after the harness's) that creates the versioned bucket. */
  constructor(private readonly harness: EmulatorHarness, public readonly bucket = 'ceremony-parameters') {
    beforeAll(async () => {
      const region = harness.emulators.env.AWS_REGION;
      const config = { region, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' }, endpoint: this.s3Endpoint };
      this.s3 = new S3Client({ ...config, forcePathStyle: true });
      this.events = new EventBridgeClient(config);
      await this.s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-2' } }));
      await this.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    });
    afterAll(() => { this.s3?.destroy(); this.events?.destroy(); });
  }

  /** moto, which serves Secrets Manager, S3 and EventBridge here. */
  public get s3Endpoint(): string {
    return this.harness.emulators.secretsEndpoint;
  }

  /** Synthesizes the stack (`build` gets the bucket, imported by name), runs every import's Create, and keeps the sets' secrets. */
  public async deploy(build: (stack: Stack, bucket: s3.IBucket) => void): Promise<EmulatedDeployment> {
    this.deployment = await this.harness.deployStack((stack) => build(stack, s3.Bucket.fromBucketName(stack, 'Parameters', this.bucket)));
    this.deployment.envOverrides = { AWS_ENDPOINT_URL_S3: this.s3Endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: this.s3Endpoint };
    const ids = Object.keys(this.deployment.synthesized.imports);
    const created = await this.harness.invoke(this.deployment, ...ids.map((id) => this.deployment.createEvent(id)));
    if (created.some((o) => o.status !== 'SUCCESS')) throw new Error(`a Create failed: ${JSON.stringify(created)}`);
    for (const id of ids) {
      const set = await this.setOf(id);
      for (const file of [PARAMETER_FILE.IMPORT_TOKEN, PARAMETER_FILE.PUBLIC_KEY_DER]) this.secrets.push(await this.read(`${this.prefixOf(id)}${OFFLINE_FOLDER.PARAMETERS}${set}/${file}`));
    }
    return this.deployment;
  }

  public async cli(...args: string[]): Promise<CliRun> {
    const run = await runCli(args, { s3: this.s3Endpoint, kms: this.harness.emulators.kmsEndpoint });
    this.transcript.push(run.stdout, run.stderr);
    return run;
  }

  public async read(key: string): Promise<Buffer> {
    return Buffer.from(await (await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))).Body!.transformToByteArray());
  }

  public async put(key: string, body: Uint8Array): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  public async list(prefix: string): Promise<string[]> {
    return ((await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
  }

  public prefixOf(id: string): string {
    return offlinePrefix(this.deployment.keyArn(id));
  }

  /** The name of the key's one published set. */
  public async setOf(id: string): Promise<string> {
    const manifests = (await this.list(`${this.prefixOf(id)}${OFFLINE_FOLDER.PARAMETERS}`)).filter((k) => k.endsWith(PARAMETER_FILE.MANIFEST));
    if (manifests.length !== 1) throw new Error(`expected one set for ${id}, found ${manifests.length}`);
    return manifests[0].split('/').at(-2)!;
  }

  public uploadKey(id: string, set: string): string {
    return `${this.prefixOf(id)}${OFFLINE_FOLDER.UPLOADS}${set}/${UPLOAD_FILE}`;
  }

  public async resultOf(id: string, set: string): Promise<UploadResult> {
    return JSON.parse((await this.read(`${this.prefixOf(id)}${OFFLINE_FOLDER.RESULTS}${set}.json`)).toString()) as UploadResult;
  }

  /** Every result object's text. */
  public async results(): Promise<string[]> {
    const keys = (await this.list('')).filter((k) => k.includes(`/${OFFLINE_FOLDER.RESULTS}`));
    return Promise.all(keys.map(async (k) => (await this.read(k)).toString()));
  }

  /** S3's "Object Created" event on EventBridge as the S3 user guide documents it, for the newest version of `key`. */
  public async objectCreated(key: string): Promise<S3ObjectCreatedEvent> {
    const versions = (await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key }))).Versions!;
    const version = versions.find((v) => v.Key === key && v.IsLatest)!;
    // The bucket owner's account: the stack's, whose keys the emulator made.
    const account = this.deployment.keyArn(Object.keys(this.deployment.synthesized.imports)[0]).split(':')[4];
    return {
      version: '0', id: randomBytes(16).toString('hex'), 'detail-type': 'Object Created', source: 'aws.s3', account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), region: this.harness.emulators.env.AWS_REGION, resources: [`arn:aws:s3:::${this.bucket}`],
      detail: {
        version: '0', bucket: { name: this.bucket },
        // The key as EventBridge sends it: not URL-encoded (lambda/decisions/upload-key.ts), ':' and all.
        object: { key, size: version.Size, etag: version.ETag!.replace(/"/g, ''), 'version-id': version.VersionId, sequencer: '617f08299329d189' },
        'request-id': 'N4N7GDK58NMKJ12R', requester: account, 'source-ip-address': '127.0.0.1', reason: 'PutObject',
      },
    } as S3ObjectCreatedEvent;
  }

  /**
   * What the stack's rule does: sends the event to the handler bundle. (The rule's pattern is checked
   * in test/construct/offline-wrapping.test.ts; moto's TestEventPattern answered without a Result, so
   * the event is not matched against it here.)
   */
  public async deliver(event: S3ObjectCreatedEvent): Promise<UploadOutcome> {
    const [outcome] = await this.harness.invoke(this.deployment, event);
    if (outcome.status !== 'SUCCESS') throw new Error(`the handler failed: ${outcome.reason}`);
    return outcome.response as unknown as UploadOutcome;
  }

  /** Waits for the CLI's upload to land (more than `known` versions), then delivers its event. */
  public async deliverWhenUploaded(key: string, known = 0): Promise<UploadOutcome> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const versions = (await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key }))).Versions ?? [];
      if (versions.length > known) return this.deliver(await this.objectCreated(key));
      if (Date.now() > deadline) throw new Error('the CLI never uploaded');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The operator and the HSM: `parameters` for key `id`, then the printed openssl recipe run literally on `material`. */
  public async wrap(id: string, material: Buffer): Promise<{ blob: Buffer; hsm: string; recipe: string[]; stdout: string }> {
    const out = mkdtempSync(join(tmpdir(), 'ceremony-set-'));
    const run = await this.cli('parameters', '--bucket', this.bucket, '--key', this.deployment.keyArn(id), '--out', out, '--min-hours', '1');
    if (run.code !== 0 || run.stderr) throw new Error(`parameters exited ${run.code}: ${run.stderr}`);
    const hsm = mkdtempSync(join(tmpdir(), 'ceremony-hsm-'));
    writeFileSync(join(hsm, 'material.bin'), material);
    const recipe = opensslRecipe(run.stdout);
    await runRecipe(recipe, hsm);
    const blob = readFileSync(join(hsm, 'wrapped-material.bin'));
    this.secrets.push(material, blob);
    return { blob, hsm, recipe, stdout: run.stdout };
  }

  /** The whole ceremony for key `id`: wrap, `upload --json` with the event delivered when it lands; returns the CLI's run and the handler's outcome. */
  public async ceremony(id: string, material: Buffer): Promise<{ uploaded: CliRun; outcome: UploadOutcome; recipe: string[]; set: string }> {
    const set = await this.setOf(id);
    const { hsm, recipe } = await this.wrap(id, material);
    const [uploaded, outcome] = await Promise.all([
      this.cli('upload', '--bucket', this.bucket, '--key', this.deployment.keyArn(id), '--file', join(hsm, 'wrapped-material.bin'), '--wait', '60', '--interval', '0.2', '--json'),
      this.deliverWhenUploaded(this.uploadKey(id, set)),
    ]);
    return { uploaded, outcome, recipe, set };
  }
}
