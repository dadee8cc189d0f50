/**
 * Rotation of a multi-Region key across the stacks of three Regions, against the stateful KMS model
 * (test/handler/support/kms-model.ts): a primary in us-east-1 with replicas in eu-west-1 and
 * ap-southeast-2, each key its own model, the replicas linked to the primary. Every step is the
 * handler answering the CloudFormation event of one stack, in the order `cdk deploy --all` sends them.
 */
import { DeleteImportedKeyMaterialCommand, ImportKeyMaterialCommand, KMSClient, ListKeyRotationsCommand, ListKeyRotationsCommandInput, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, GetSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { ProviderEvent } from '../../lambda';
import { ImportProperties, MaterialSource } from '../../lib/shared/contract';
import { create, failure, kms, kmsModel, output, props, resetHarness, secrets, success, unwrapSentMaterial, update } from './support/handler-harness';
import type { KmsKeyModel } from './support/kms-model';

const PRIMARY = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const replicaArn = (region: string) => PRIMARY.replace('us-east-1', region);
const REGIONS = ['eu-west-1', 'ap-southeast-2'] as const;
const secretIn = (region: string) => `arn:aws:secretsmanager:${region}:111122223333:secret:prod/payments/kms-material-AbCdEf`;

/** The bytes each secret holds at each version stage; a Region's secret may be told to hold others. */
let versions: Record<string, Buffer>;
let overrides: Record<string, Buffer>;
let primary: KmsKeyModel;
let replicas: Record<string, KmsKeyModel>;

/** The import properties of a key listing these stages, oldest first (the current one last). */
function keyProps(keyArn: string, region: string, stages: string[], replica: boolean): ImportProperties {
  const source = (stage: string): MaterialSource => ({ SecretId: secretIn(region), VersionStage: stage });
  const previous = stages.slice(0, -1).map(source);
  return props({
    KeyArn: keyArn, ...source(stages[stages.length - 1]), PreviousMaterials: previous.length ? previous : undefined,
    Replica: replica ? 'true' : undefined, PrimaryKeyArn: replica && previous.length ? PRIMARY : undefined,
  });
}
const primaryProps = (stages: string[]) => keyProps(PRIMARY, 'us-east-1', stages, false);
const replicaProps = (region: string, stages: string[]) => keyProps(replicaArn(region), region, stages, true);

/** The KeyMaterialState the key's ListKeyRotations reports for these bytes. */
const stateOn = (key: KmsKeyModel, bytes: Buffer) => {
  const material = key.materials.find((m) => m.bytes.equals(bytes));
  return material ? key.reportedState(material) : 'absent';
};
const imports = () => kms.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);
const rotationCalls = () => kms.commandCalls(RotateKeyOnDemandCommand);
const deletions = () => kms.commandCalls(DeleteImportedKeyMaterialCommand);
const waitingLines = () => output.filter((line) => line.includes('"event":"RotationWaitingForReplicas"')).map((line) => JSON.parse(line) as Record<string, unknown>);

/** Deploys v1 everywhere: the primary's stack, then each replica's. */
async function deployFirstMaterial(): Promise<void> {
  await success(create(primaryProps(['v1'])));
  for (const region of REGIONS) await success(create(replicaProps(region, ['v1'])));
}

/** The rotation's Update of one stack: the list [v1] becomes [v1, v2]. */
const rotatePrimary = (): ProviderEvent => update(primaryProps(['v1', 'v2']), primaryProps(['v1']));
const rotateReplica = (region: string): ProviderEvent => update(replicaProps(region, ['v1', 'v2']), replicaProps(region, ['v1']));

beforeEach(() => {
  resetHarness();
  versions = { v1: randomBytes(32), v2: randomBytes(32), v3: randomBytes(32) };
  overrides = {};
  secrets.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => {
    const region = String(input.SecretId).split(':')[3];
    return { SecretBinary: new Uint8Array(overrides[`${region}/${input.VersionStage}`] ?? versions[input.VersionStage!]) };
  });
  primary = kmsModel.addKey(PRIMARY);
  replicas = Object.fromEntries(REGIONS.map((region) => [region, kmsModel.addKey(replicaArn(region))]));
  for (const region of REGIONS) primary.linkReplica(replicas[region]);
});
afterEach(() => jest.restoreAllMocks());

describe('a multi-Region rotation deployed stack by stack', () => {
  test('the primary imports and waits, the first replica imports and waits, the last replica rotates the primary in its Region', async () => {
    await deployFirstMaterial();
    const [oldId, newId] = [primary.materialIdOf(versions.v1), primary.materialIdOf(versions.v2)];
    kms.resetHistory();

    // 1. The primary's stack: NEW_KEY_MATERIAL, pending until every replica holds it; no rotation.
    const first = await success(rotatePrimary());
    expect(imports().map((input) => input.ImportType)).toEqual(['NEW_KEY_MATERIAL']);
    expect(rotationCalls()).toHaveLength(0);
    expect(stateOn(primary, versions.v2)).toBe('PENDING_MULTI_REGION_IMPORT_AND_ROTATION');
    expect(first.Data!.KeyMaterialId).toBe(oldId); // currentKeyMaterialId: still the previous material
    const [line, ...more] = waitingLines();
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({ RotationsWaitingForReplicas: 1, primaryKeyArn: PRIMARY, pendingKeyMaterialId: newId, KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' });
    // Raw on stdout, like the renewal metric: Lambda's JSON log format would wrap a console.log line and hide `_aws` from CloudWatch.
    const written = (process.stdout.write as jest.Mock).mock.calls.map(([chunk]) => String(chunk));
    expect(written.filter((l) => l.includes('"_aws"'))).toEqual([expect.stringMatching(/^\{"_aws":.*\}\n$/)]);
    expect((console.log as jest.Mock).mock.calls.flat().some((arg) => String(arg).includes('"_aws"'))).toBe(false);
    // An Embedded Metric Format line: CloudWatch counts RotationsWaitingForReplicas per key.
    expect((line._aws as { CloudWatchMetrics: unknown }).CloudWatchMetrics)
      .toEqual([{ Namespace: 'ImportedKmsKey', Dimensions: [['KeyId']], Metrics: [{ Name: 'RotationsWaitingForReplicas', Unit: 'Count' }] }]);

    // 2. The first replica's stack: EXISTING_KEY_MATERIAL into the replica; the other replica still lacks it.
    output.length = 0;
    const second = await success(rotateReplica('eu-west-1'));
    expect(imports().slice(1).map((input) => [input.KeyId, input.ImportType]))
      .toEqual([[replicaArn('eu-west-1'), 'EXISTING_KEY_MATERIAL']]);
    expect(rotationCalls()).toHaveLength(0);
    expect(stateOn(primary, versions.v2)).toBe('PENDING_MULTI_REGION_IMPORT_AND_ROTATION');
    expect(second.Data!.KeyMaterialId).toBe(oldId);
    expect(waitingLines()).toHaveLength(1);

    // 3. The last replica's stack: the primary is PENDING_ROTATION now, so this handler rotates it, in us-east-1.
    output.length = 0;
    const last = await success(rotateReplica('ap-southeast-2'));
    const rotations = rotationCalls();
    expect(rotations.map((c) => c.args[0].input.KeyId)).toEqual([PRIMARY]);
    expect(await (rotations[0].thisValue as KMSClient).config.region()).toBe('us-east-1');
    expect(last.Data!.KeyMaterialId).toBe(newId);
    expect(waitingLines()).toHaveLength(0);
    for (const key of [primary, ...Object.values(replicas)]) {
      expect(key.current()?.bytes.equals(versions.v2)).toBe(true);
      expect(stateOn(key, versions.v1)).toBe('NON_CURRENT');
    }
    expect(primary.rotations).toBe(1);
  });

  test('no log line, response or error carries the material', async () => {
    await deployFirstMaterial();
    overrides['ap-southeast-2/v2'] = randomBytes(32);
    const responses = [await success(rotatePrimary()), await success(rotateReplica('eu-west-1')), await failure(rotateReplica('ap-southeast-2'))];
    const seen = [...output, JSON.stringify(responses)].join('\n');
    for (const bytes of [versions.v1, versions.v2, overrides['ap-southeast-2/v2']]) {
      for (const form of [bytes.toString('hex'), bytes.toString('base64')]) expect(seen).not.toContain(form);
    }
  });

  test('re-sent events rotate once: the primary\'s and each replica\'s Update sent again, before and after the rotation', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    await success(rotatePrimary()); // re-sent while waiting: its own pending material (by description) keeps waiting
    expect(stateOn(primary, versions.v2)).toBe('PENDING_MULTI_REGION_IMPORT_AND_ROTATION');
    await success(rotateReplica('eu-west-1'));
    await success(rotateReplica('eu-west-1'));
    await success(rotateReplica('ap-southeast-2'));
    for (const event of [rotateReplica('ap-southeast-2'), rotateReplica('eu-west-1'), rotatePrimary()]) {
      const response = await success(event);
      expect(response.Data!.KeyMaterialId).toBe(primary.materialIdOf(versions.v2));
    }
    expect(rotationCalls()).toHaveLength(1);
    expect(primary.rotations).toBe(1);
  });

  test('two replicas completing the set at once: one rotation, both succeed', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    const [a, b] = await Promise.all([success(rotateReplica('eu-west-1')), success(rotateReplica('ap-southeast-2'))]);
    expect(primary.rotations).toBe(1);
    expect(primary.current()?.bytes.equals(versions.v2)).toBe(true);
    // Whichever finished last saw the material current; at least one reports the new id.
    expect([a.Data!.KeyMaterialId, b.Data!.KeyMaterialId]).toContain(primary.materialIdOf(versions.v2));
  });

  test('KMS\'s view across Regions lagging: the last replica reads the primary again and still rotates', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    await success(rotateReplica('eu-west-1'));
    // The first read after the last import still shows the set incomplete (sinon counts calls from the last reset).
    kms.resetHistory();
    const model = (input: ListKeyRotationsCommandInput) => kmsModel.keyFor(input.KeyId).listKeyRotations(input);
    kms.on(ListKeyRotationsCommand).callsFakeOnce((input: ListKeyRotationsCommandInput) => {
      const page = model(input);
      return { ...page, Rotations: page.Rotations.map((r) => (r.KeyMaterialState === 'PENDING_ROTATION' ? { ...r, KeyMaterialState: 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION' } : r)) };
    }).callsFake(model);
    const last = await success(rotateReplica('ap-southeast-2'));
    expect(kms.commandCalls(ListKeyRotationsCommand)).toHaveLength(2);
    expect(last.Data!.KeyMaterialId).toBe(primary.materialIdOf(versions.v2));
    expect(primary.rotations).toBe(1);
  });

  test('a multi-Region primary without replicas rotates at once, in its own stack', async () => {
    const lone = kmsModel.addKey(PRIMARY.replace('1234abcd', '5678abcd'));
    lone.multiRegionPrimary = true;
    const arn = lone.keyArn;
    await success(create({ ...primaryProps(['v1']), KeyArn: arn }));
    const response = await success(update({ ...primaryProps(['v1', 'v2']), KeyArn: arn }, { ...primaryProps(['v1']), KeyArn: arn }));
    expect(lone.current()?.bytes.equals(versions.v2)).toBe(true);
    expect(response.Data!.KeyMaterialId).toBe(lone.materialIdOf(versions.v2));
    expect(waitingLines()).toHaveLength(0);
  });
});

describe('rollbacks and failures leave the pending material in place, and a later deploy resumes', () => {
  const writes = () => [...imports(), ...rotationCalls(), ...deletions()];

  test('the rollback of each stack\'s step changes no key; deploying the rotation again completes it', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    await success(rotateReplica('eu-west-1'));
    kms.resetHistory();
    // CloudFormation rolls back an Update with the old properties as a new Update.
    await success(update(replicaProps('eu-west-1', ['v1']), replicaProps('eu-west-1', ['v1', 'v2'])));
    await success(update(primaryProps(['v1']), primaryProps(['v1', 'v2'])));
    expect(writes()).toHaveLength(0);
    expect(stateOn(primary, versions.v2)).toBe('PENDING_MULTI_REGION_IMPORT_AND_ROTATION');
    // Deployed again: the primary finds its own pending material, the replicas import it, the last rotates.
    await success(rotatePrimary());
    await success(rotateReplica('eu-west-1'));
    await success(rotateReplica('ap-southeast-2'));
    expect(primary.current()?.bytes.equals(versions.v2)).toBe(true);
    expect(primary.rotations).toBe(1);
  });

  test('a replica whose secret holds other bytes fails with a sentence; nothing is rotated or deleted, and it completes once the secret is fixed', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    await success(rotateReplica('eu-west-1'));
    overrides['ap-southeast-2/v2'] = randomBytes(32);
    kms.resetHistory();
    const message = await failure(rotateReplica('ap-southeast-2'));
    expect(message).toBe(`KMS refused the material for replica ${replicaArn('ap-southeast-2')}: the replica's secret (secret ${secretIn('ap-southeast-2')} stage v2) `
      + `holds other bytes than the primary ${PRIMARY}'s pending material (KeyMaterialId ${primary.materialIdOf(versions.v2)}, `
      + 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION). Nothing was rotated and the primary keeps that material pending: put the same material in this Region\'s secret, '
      + 'then deploy this stack again (runbooks: "A multi-Region rotation stuck half-way").');
    expect(rotationCalls().length + deletions().length).toBe(0);
    expect(stateOn(primary, versions.v2)).toBe('PENDING_MULTI_REGION_IMPORT_AND_ROTATION');
    // Its rollback succeeds without a write; with the secret fixed, the deploy completes the rotation.
    await success(update(replicaProps('ap-southeast-2', ['v1']), replicaProps('ap-southeast-2', ['v1', 'v2'])));
    delete overrides['ap-southeast-2/v2'];
    const fixed = await success(rotateReplica('ap-southeast-2'));
    expect(fixed.Data!.KeyMaterialId).toBe(primary.materialIdOf(versions.v2));
  });

  test('a replica deployed before its primary\'s stack imported the new material says to deploy the primary first', async () => {
    await deployFirstMaterial();
    const message = await failure(rotateReplica('eu-west-1'));
    expect(message).toBe(`KMS refused the material for replica ${replicaArn('eu-west-1')} from the replica's secret (secret ${secretIn('eu-west-1')} stage v2): `
      + `the primary ${PRIMARY} holds no such material and has none pending. Deploy the primary's stack first (it imports the new material), then this stack again.`);
    expect(stateOn(replicas['eu-west-1'], versions.v2)).toBe('absent');
  });

  test('a replica an operator disabled is not imported into', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    replicas['eu-west-1'].keyState = 'Disabled';
    kms.resetHistory();
    expect(await failure(rotateReplica('eu-west-1'))).toMatch(/is Disabled, and a deploy never imports into a disabled key/);
    expect(imports()).toHaveLength(0);
  });
});

describe('a replica added later', () => {
  test('imports every material the primary holds, oldest first, and no rotation', async () => {
    await deployFirstMaterial();
    await success(rotatePrimary());
    for (const region of REGIONS) await success(rotateReplica(region));
    const later = kmsModel.addKey(replicaArn('sa-east-1'));
    primary.linkReplica(later);
    kms.resetHistory();
    const response = await success(create(replicaProps('sa-east-1', ['v1', 'v2'])));
    expect(imports().map((input) => [input.KeyId, input.ImportType])).toEqual([
      [replicaArn('sa-east-1'), 'EXISTING_KEY_MATERIAL'], [replicaArn('sa-east-1'), 'EXISTING_KEY_MATERIAL']]);
    expect([unwrapSentMaterial(0), unwrapSentMaterial(1)]).toEqual([versions.v1, versions.v2]);
    expect(rotationCalls()).toHaveLength(0);
    expect(later.current()?.bytes.equals(versions.v2)).toBe(true);
    expect(stateOn(later, versions.v1)).toBe('NON_CURRENT');
    expect(response.Data!.KeyMaterialId).toBe(primary.materialIdOf(versions.v2));
  });

  test('added while a rotation waits, it is one more replica the rotation waits for, and it may be the one that rotates', async () => {
    await deployFirstMaterial();
    const later = kmsModel.addKey(replicaArn('sa-east-1'));
    primary.linkReplica(later);
    await success(create(replicaProps('sa-east-1', ['v1'])));
    await success(rotatePrimary());
    for (const region of REGIONS) await success(rotateReplica(region));
    expect(stateOn(primary, versions.v2)).toBe('PENDING_MULTI_REGION_IMPORT_AND_ROTATION');
    await success(update(replicaProps('sa-east-1', ['v1', 'v2']), replicaProps('sa-east-1', ['v1'])));
    expect(primary.current()?.bytes.equals(versions.v2)).toBe(true);
    expect(primary.rotations).toBe(1);
  });
});
