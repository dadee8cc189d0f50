/**
 * Rotation of symmetric keys: the handler's paths against the KMS key model (support/kms-model.ts),
 * which keeps a key's materials the way the KMS API reference describes them (NEW_KEY_MATERIAL waits
 * as PENDING_ROTATION, RotateKeyOnDemand makes it current, EXISTING must be a material the key holds,
 * 25 rotations). The synth-time side is in test/construct/rotation.test.ts, the emulator lifecycle
 * on LocalStack in test/emulator/rotation.test.ts.
 */
import {
  DescribeKeyCommand, DescribeKeyCommandInput, ImportKeyMaterialCommand, ImportKeyMaterialCommandInput, RotateKeyOnDemandCommand, RotateKeyOnDemandCommandInput,
} from '@aws-sdk/client-kms';
import { GetSecretValueCommand, GetSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { ImportProperties, MaterialSource, materialDescription } from '../../lib/shared/contract';
import { parseLog } from '../../tools/template';
import { handler } from '../../lambda';
import { expectNoLeak, recordCipherInputs, symmetricMaterial } from '../support/keys';
import {
  awsError, create, failure, inDays, KEY_ARN, kms, kmsCalls, kmsKey, output, props, resetHarness, SECRET_ARN, secrets, success, unwrapSentMaterial, update,
} from './support/handler-harness';
import { Material } from './support/kms-model';

const SECRET_2 = SECRET_ARN.replace('kms-material', 'kms-material-2');
const SECRET_3 = SECRET_ARN.replace('kms-material', 'kms-material-3');
/** The secrets, by id, each holding one material (a fresh 32 bytes). */
const store = new Map<string, Buffer>();
/** The KeyMaterialId the model gives (or would give) this material. */
const idOf = (material: Buffer) => kmsKey.materialIdOf(material);
/** The model's materials, oldest first (the same array, so tests can add one by hand). */
let materials: Material[];

/** A key with the materials of `sources` imported and rotated in, in order. */
function keyHolding(...sources: string[]): void {
  kmsKey.holdMaterials(sources.map((source) => ({ bytes: store.get(source)!, description: `secret ${source} stage AWSCURRENT` })));
}

const describeKey = (input: DescribeKeyCommandInput) => kmsKey.describeKey(input);
const rotateOnDemand = (input: RotateKeyOnDemandCommandInput) => kmsKey.rotateKeyOnDemand(input);
const importMaterial = (input: ImportKeyMaterialCommandInput) => kmsKey.importKeyMaterial(input);

beforeEach(() => {
  resetHarness();
  store.clear();
  for (const id of [SECRET_ARN, SECRET_2, SECRET_3]) store.set(id, symmetricMaterial());
  materials = kmsKey.materials;
  secrets.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => ({ SecretBinary: new Uint8Array(store.get(input.SecretId!)!) }));
});
afterEach(() => jest.restoreAllMocks());

const source = (SecretId: string): MaterialSource => ({ SecretId });
/** A key whose materials are `previous` then `current` (secret ids). */
const listing = (current: string, previous: string[], extra: Partial<ImportProperties> = {}) =>
  props({ SecretId: current, PreviousMaterials: previous.length ? previous.map(source) : undefined, ...extra });
const importInputs = () => kms.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);
const currentId = () => materials.find((m) => m.state === 'CURRENT')?.id;
const lastLog = () => parseLog(output.filter((line) => line.startsWith('{')).pop()!);

describe('a deploy that adds a new current material rotates the key', () => {
  test('imports it as NEW_KEY_MATERIAL, rotates on demand, confirms it is current, and returns its id', async () => {
    keyHolding(SECRET_ARN);
    const response = await success(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(kmsCalls()).toEqual(['DescribeKey', 'GetParametersForImport', 'ImportKeyMaterial', 'RotateKeyOnDemand', 'DescribeKey']);
    expect(importInputs()[0]).toMatchObject({ ImportType: 'NEW_KEY_MATERIAL', KeyMaterialDescription: `secret ${SECRET_2} stage AWSCURRENT` });
    expect(unwrapSentMaterial(0).equals(store.get(SECRET_2)!)).toBe(true);
    expect(currentId()).toBe(idOf(store.get(SECRET_2)!));
    expect(response.Data).toMatchObject({ KeyMaterialId: idOf(store.get(SECRET_2)!) });
    expect(materials.map((m) => m.state)).toEqual(['NON_CURRENT', 'CURRENT']);
    expect(lastLog()).toEqual({ requestType: 'Update', keyArn: KEY_ARN, outcome: 'succeeded', imported: true });
  });

  test('a second rotation keeps both earlier materials', async () => {
    keyHolding(SECRET_ARN, SECRET_2);
    await success(update(listing(SECRET_3, [SECRET_ARN, SECRET_2]), listing(SECRET_2, [SECRET_ARN])));
    expect(materials.map((m) => m.state)).toEqual(['NON_CURRENT', 'NON_CURRENT', 'CURRENT']);
    expect(currentId()).toBe(idOf(store.get(SECRET_3)!));
  });

  test('waits for KMS to report the new material as current (eventual consistency)', async () => {
    keyHolding(SECRET_ARN);
    // Round trip 1 reads the key, then the first read after the rotation still reports the earlier material.
    const stale = { KeyMetadata: { KeyId: KEY_ARN, KeyState: 'Enabled' as const, CurrentKeyMaterialId: materials[0].id, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const } };
    kms.on(DescribeKeyCommand).callsFakeOnce(describeKey).callsFakeOnce(() => stale).callsFake(describeKey);
    const response = await success(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(kmsCalls()).toEqual(['DescribeKey', 'GetParametersForImport', 'ImportKeyMaterial', 'RotateKeyOnDemand', 'DescribeKey', 'DescribeKey']);
    expect(response.Data).toMatchObject({ KeyMaterialId: idOf(store.get(SECRET_2)!) });
  });

  test('fails with a sentence naming the new material when KMS never reports a current one', async () => {
    keyHolding(SECRET_ARN);
    const unnamed = { KeyMetadata: { KeyId: KEY_ARN, KeyState: 'Enabled' as const, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const } };
    kms.on(DescribeKeyCommand).callsFakeOnce(describeKey).callsFake(() => unnamed);
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])))).toMatch(
      new RegExp(`still reports it Enabled rather than Enabled with material never expiring and current material ${idOf(store.get(SECRET_2)!)} \\(reported: none\\)\\. `));
  });

  test.each([true, false])('a re-sent rotation succeeds without rotating again (materials listed newest first: %s)', async (order) => {
    kmsKey.newestFirst = order;
    keyHolding(SECRET_ARN);
    const event = update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, []));
    await success(event);
    kms.resetHistory();
    const response = await success(event);
    expect(kmsCalls()).not.toContain('RotateKeyOnDemand');
    expect(response.Data).toMatchObject({ KeyMaterialId: idOf(store.get(SECRET_2)!) });
    expect(materials).toHaveLength(2);
    expect(lastLog().reason).toMatch(/already has this material as its current material/);
  });

  test('a rotation that stopped before RotateKeyOnDemand is finished by the next deploy', async () => {
    keyHolding(SECRET_ARN);
    const event = update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, []));
    kms.on(RotateKeyOnDemandCommand).rejectsOnce(awsError('ConflictException'));
    expect(await failure(event)).toMatch(/RotateKeyOnDemand failed for KMS key .* \(ConflictException\): an automatic rotation .* Retry the deployment in 20 minutes\./);
    expect(materials.map((m) => m.state)).toEqual(['CURRENT', 'PENDING_ROTATION']);
    kms.on(RotateKeyOnDemandCommand).callsFake(() => {
      const pending = materials.find((m) => m.state === 'PENDING_ROTATION')!;
      materials[0].state = 'NON_CURRENT';
      pending.state = 'CURRENT';
      return {};
    });
    expect((await success(event)).Data).toMatchObject({ KeyMaterialId: idOf(store.get(SECRET_2)!) });
    expect(materials.map((m) => m.state)).toEqual(['NON_CURRENT', 'CURRENT']);
    expect(kms.commandCalls(RotateKeyOnDemandCommand)).toHaveLength(2);
  });

  test('RotateKeyOnDemand answering KMSInvalidStateException or AccessDeniedException right after the import is retried', async () => {
    keyHolding(SECRET_ARN);
    kms.on(RotateKeyOnDemandCommand).rejectsOnce(awsError('KMSInvalidStateException')).rejectsOnce(awsError('AccessDeniedException')).callsFake(rotateOnDemand);
    await success(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(kms.commandCalls(RotateKeyOnDemandCommand)).toHaveLength(3);
    expect(currentId()).toBe(idOf(store.get(SECRET_2)!));
  });

  test('RotateKeyOnDemand still refusing after the retries fails with its sentence; other refusals are not retried', async () => {
    keyHolding(SECRET_ARN);
    kms.on(RotateKeyOnDemandCommand).rejects(awsError('KMSInvalidStateException'));
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, []))))
      .toMatch(/^RotateKeyOnDemand failed for KMS key .* \(KMSInvalidStateException\): KMS reports no material pending rotation/);
    expect(kms.commandCalls(RotateKeyOnDemandCommand)).toHaveLength(5);
    kms.on(RotateKeyOnDemandCommand).rejects(awsError('ConflictException'));
    kms.resetHistory();
    await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(kms.commandCalls(RotateKeyOnDemandCommand)).toHaveLength(1);
  });

  test('on a new key, only the refusals of eventual consistency are retried', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(awsError('IncorrectKeyMaterialException'));
    expect(await failure(create(listing(SECRET_2, [SECRET_ARN])))).toMatch(/\(IncorrectKeyMaterialException\)/);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(1);
  });

  test('an import refused for another reason than settling is not retried, and a key that exists is not waited for', async () => {
    keyHolding(SECRET_ARN);
    kms.on(ImportKeyMaterialCommand).rejects(awsError('NotFoundException'));
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])))).toMatch(/^ImportKeyMaterial \(NEW_KEY_MATERIAL\) failed .* \(NotFoundException\)/);
    expect(kms.commandCalls(ImportKeyMaterialCommand)).toHaveLength(1);
  });
});

describe('what KMS refuses becomes a sentence', () => {
  test('a pending material without a description is named as such', async () => {
    keyHolding(SECRET_ARN);
    materials.push({ id: 'e'.repeat(64), bytes: symmetricMaterial(), state: 'PENDING_ROTATION' });
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, []))))
      .toMatch(new RegExp(`already has another material pending rotation \\(KeyMaterialId ${'e'.repeat(64)}, no description\\)`));
  });

  test('when the EXISTING proof is refused too, the NEW import\'s refusal is the sentence', async () => {
    keyHolding(SECRET_ARN);
    kms.on(ImportKeyMaterialCommand).callsFake((input: ImportKeyMaterialCommandInput) => {
      if (input.ImportType === 'NEW_KEY_MATERIAL') throw awsError('ValidationException');
      return importMaterial(input);
    });
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, []))))
      .toMatch(/^ImportKeyMaterial \(NEW_KEY_MATERIAL\) failed for KMS key .* \(ValidationException\)/);
    expect(importInputs().map((i) => i.ImportType)).toEqual(['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL']);
  });

  test('another material already pending rotation: names it and both ways out', async () => {
    keyHolding(SECRET_ARN);
    materials.push({ id: 'f'.repeat(64), bytes: symmetricMaterial(), state: 'PENDING_ROTATION', description: 'imported by hand' });
    const message = await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(message).toBe(`KMS key ${KEY_ARN} already has another material pending rotation (KeyMaterialId ${'f'.repeat(64)}, description "imported by hand"), `
      + 'and a key takes one new material at a time. If that is the material you want, make it current '
      + `(aws kms rotate-key-on-demand --key-id ${KEY_ARN}) and list it in keyMaterial; otherwise delete it `
      + `(aws kms delete-imported-key-material --key-id ${KEY_ARN} --key-material-id ${'f'.repeat(64)}). Then deploy again.`);
    expect(kmsCalls()).not.toContain('RotateKeyOnDemand');
  });

  test('the on-demand rotation quota: says 25 and how to remove the pending material', async () => {
    keyHolding(SECRET_ARN);
    kmsKey.rotations = 25;
    const message = await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(message).toMatch(/^RotateKeyOnDemand failed for KMS key .* \(LimitExceededException\): the key has used all its on-demand rotations \(KMS allows 25 per key\)\./);
    expect(message).toContain(`aws kms delete-imported-key-material --key-id ${KEY_ARN} --key-material-id`);
  });

  test('an earlier material appended as new: KMS never makes it current again', async () => {
    store.set(SECRET_3, store.get(SECRET_ARN)!);
    keyHolding(SECRET_ARN, SECRET_2);
    const message = await failure(update(listing(SECRET_3, [SECRET_ARN, SECRET_2]), listing(SECRET_2, [SECRET_ARN])));
    expect(message).toBe(`The new material for KMS key ${KEY_ARN} (from secret ${SECRET_3} stage AWSCURRENT) is an earlier material of this key `
      + `(KeyMaterialId ${idOf(store.get(SECRET_ARN)!)}), and KMS never makes an earlier material current again. Put material the key never held in keyMaterial `
      + '(and the current one last in previousKeyMaterials), then deploy again.');
    expect(currentId()).toBe(idOf(store.get(SECRET_2)!));
  });

  test('a Disabled key is not rotated, and not enabled', async () => {
    keyHolding(SECRET_ARN);
    kmsKey.keyState = 'Disabled';
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])))).toMatch(/is Disabled, and a deploy never imports into a disabled key or enables it/);
    expect(kmsCalls()).not.toContain('ImportKeyMaterial');
    expect(kmsKey.keyState).toBe('Disabled');
  });

  test.each([true, false])('a rotation re-sent after an operator disabled the key succeeds without touching it (newest first: %s)', async (order) => {
    kmsKey.newestFirst = order;
    keyHolding(SECRET_ARN, SECRET_2);
    kmsKey.keyState = 'Disabled';
    const response = await success(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, [])));
    expect(response.Data).toMatchObject({ KeyMaterialId: idOf(store.get(SECRET_2)!) });
    expect(kmsCalls()).not.toContain('ImportKeyMaterial');
    expect(kmsKey.keyState).toBe('Disabled');
    expect(lastLog().reason).toBe('the key (Disabled) already has this material as its current material');
  });

  test('a key that does not rotate (KMS says UnsupportedOperation)', async () => {
    keyHolding(SECRET_ARN);
    kms.on(ImportKeyMaterialCommand).rejects(awsError('UnsupportedOperationException'));
    expect(await failure(update(listing(SECRET_2, [SECRET_ARN]), listing(SECRET_ARN, []))))
      .toMatch(/^ImportKeyMaterial \(NEW_KEY_MATERIAL\) failed .* only symmetric encryption keys with Origin EXTERNAL rotate/);
  });

  test('the refusal says what KMS holds and what the deployment lists', async () => {
    keyHolding(SECRET_ARN, SECRET_2, SECRET_3);
    const message = await failure(update(listing(SECRET_3, [SECRET_2, SECRET_ARN]), listing(SECRET_3, [SECRET_ARN, SECRET_2])));
    const [a, b, c] = [SECRET_ARN, SECRET_2, SECRET_3].map((id) => idOf(store.get(id)!));
    expect(message).toBe(`The materials of KMS key ${KEY_ARN} must be listed as the key holds them, oldest first and the current one last: `
      + `KMS holds 3 (${a}, ${b}, ${c}), and the deployment lists 3 ("secret ${SECRET_2} stage AWSCURRENT", "secret ${SECRET_ARN} stage AWSCURRENT", `
      + `"secret ${SECRET_3} stage AWSCURRENT"). Materials cannot leave a key, and an earlier one never becomes current again: `
      + 'restore previousKeyMaterials and keyMaterial as they were, then deploy again.');
  });

  test('a list naming a material that is only pending rotation is refused', async () => {
    keyHolding(SECRET_ARN, SECRET_2);
    materials.push({ id: idOf(store.get(SECRET_3)!), bytes: store.get(SECRET_3)!, state: 'PENDING_ROTATION', description: 'by hand' });
    const message = await failure(update(listing(SECRET_3, [SECRET_ARN, SECRET_2]), listing(SECRET_2, [SECRET_ARN.replace('material', 'old')])));
    expect(message).toMatch(/must be listed as the key holds them, oldest first and the current one last: KMS holds 2 /);
  });

  test('an expiration change of a key whose newest material the template does not list (after a rotation\'s rollback) fails, naming the current material', async () => {
    keyHolding(SECRET_ARN, SECRET_2, SECRET_3);
    const listed = listing(SECRET_2, [SECRET_ARN]);
    expect(await failure(update({ ...listed, ValidTo: inDays(60) }, listed))).toMatch(new RegExp(`current material ${idOf(store.get(SECRET_2)!)} \\(reported: ${idOf(store.get(SECRET_3)!)}\\)`));
  });

  test('removing or reordering earlier materials is refused, and the rollback of that deploy succeeds', async () => {
    keyHolding(SECRET_ARN, SECRET_2, SECRET_3);
    // A pending material (imported by hand) is not one of the key's materials yet, and does not count.
    materials.push({ id: 'd'.repeat(64), bytes: symmetricMaterial(), state: 'PENDING_ROTATION' });
    const deployed = listing(SECRET_3, [SECRET_ARN, SECRET_2]);
    for (const wanted of [listing(SECRET_3, [SECRET_2, SECRET_ARN]), listing(SECRET_3, [SECRET_2])]) {
      const message = await failure(update(wanted, deployed));
      expect(message).toMatch(new RegExp(`^The materials of KMS key ${KEY_ARN} must be listed as the key holds them, oldest first and the current one last: KMS holds 3 `));
      expect(message).toMatch(/restore previousKeyMaterials and keyMaterial as they were, then deploy again\.$/);
      await success(update(deployed, wanted));
    }
    expect(currentId()).toBe(idOf(store.get(SECRET_3)!));
  });

  test('two new materials in one deploy are refused without a rotation: KMS rotates in one material at a time', async () => {
    keyHolding(SECRET_ARN);
    const deployed = listing(SECRET_ARN, []);
    const wanted = listing(SECRET_3, [SECRET_ARN, SECRET_2]);
    expect(await failure(update(wanted, deployed))).toBe(`This deployment adds 2 materials to KMS key ${KEY_ARN} at once, but a rotation makes one new material current `
      + 'and KMS cannot rotate in several together. Nothing was imported: add one material per deployment (README: "Rotating the material").');
    expect(kmsCalls()).toEqual(['DescribeKey', 'GetParametersForImport']);
    await success(update(deployed, wanted));
    expect(kmsCalls()).not.toContain('ImportKeyMaterial');
    expect(currentId()).toBe(idOf(store.get(SECRET_ARN)!));
  });
});

describe('rollbacks and other paths never wedge', () => {
  test('the rollback of a rotation succeeds without a call that changes the key, and the key keeps the new material', async () => {
    keyHolding(SECRET_ARN, SECRET_2);
    await success(update(listing(SECRET_ARN, []), listing(SECRET_2, [SECRET_ARN])));
    expect(kmsCalls()).toEqual(['DescribeKey', 'GetParametersForImport']);
    expect(currentId()).toBe(idOf(store.get(SECRET_2)!));
    expect(lastLog()).toMatchObject({ outcome: 'succeeded', imported: false, reason: 'the materials list lost its newest entries (the rollback of a rotation, '
      + 'or a deploy that removed them); KMS cannot make an earlier material current again, so the key keeps its current material and every earlier one. '
      + 'Deploy the rotation again to record it (README: "Rotating the material")' });
  });

  test('an expiration change re-imports every material, oldest first, each with its description', async () => {
    keyHolding(SECRET_ARN, SECRET_2);
    const handedToCipher = recordCipherInputs();
    const validTo = inDays(90);
    const response = await success(update(listing(SECRET_2, [SECRET_ARN], { ValidTo: validTo }), listing(SECRET_2, [SECRET_ARN])));
    expect(response.Data).toMatchObject({ KeyMaterialId: idOf(store.get(SECRET_2)!) });
    expect(importInputs().map((i) => [i.ImportType, i.KeyMaterialDescription, i.ValidTo?.toISOString().replace('.000Z', 'Z')])).toEqual([
      ['EXISTING_KEY_MATERIAL', `secret ${SECRET_ARN} stage AWSCURRENT`, validTo],
      ['EXISTING_KEY_MATERIAL', `secret ${SECRET_2} stage AWSCURRENT`, validTo],
    ]);
    expect(materials.map((m) => m.validTo?.toISOString().replace('.000Z', 'Z'))).toEqual([validTo, validTo]);
    expect(kmsCalls()).not.toContain('ListKeyRotations');
    // Each decoded material is wiped once imported.
    expect(handedToCipher).toHaveLength(2);
    for (const material of handedToCipher) expect(material.every((byte) => byte === 0)).toBe(true);
  });

  test('a scheduled renewal of a rolling rotated key re-imports every material with the new ValidTo', async () => {
    keyHolding(SECRET_ARN, SECRET_2);
    jest.useFakeTimers({ now: Date.now(), doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const settled = handler({ ImportedKmsKeyRenewal: [listing(SECRET_2, [SECRET_ARN], { RollingValidity: String(30 * 86400), RenewalInterval: String(86400) })] });
      await jest.runAllTimersAsync();
      expect(await settled).toMatchObject({ renewed: 1, failed: 0 });
    } finally {
      jest.useRealTimers();
    }
    expect(importInputs().map((i) => i.KeyMaterialDescription)).toEqual([`secret ${SECRET_ARN} stage AWSCURRENT`, `secret ${SECRET_2} stage AWSCURRENT`]);
    expect(materials.every((m) => m.validTo && m.validTo.getTime() > Date.now() + 29 * 86_400_000)).toBe(true);
  });

  test('a converged deploy of a rotated key makes no import', async () => {
    keyHolding(SECRET_ARN, SECRET_2);
    const deployed = listing(SECRET_2, [SECRET_ARN]);
    await success(update(deployed, deployed));
    expect(kmsCalls()).toEqual(['DescribeKey', 'GetParametersForImport']);
  });

  test('a new key that lists earlier materials gets them in order, and a re-sent Create changes nothing', async () => {
    const event = create(listing(SECRET_3, [SECRET_ARN, SECRET_2]));
    await success(event);
    expect(importInputs().map((i) => i.ImportType)).toEqual([undefined, 'NEW_KEY_MATERIAL', 'NEW_KEY_MATERIAL']);
    expect(kms.commandCalls(RotateKeyOnDemandCommand)).toHaveLength(2);
    expect(materials.map((m) => [m.id, m.state])).toEqual([
      [idOf(store.get(SECRET_ARN)!), 'NON_CURRENT'], [idOf(store.get(SECRET_2)!), 'NON_CURRENT'], [idOf(store.get(SECRET_3)!), 'CURRENT'],
    ]);
    const rotated = kmsKey.rotations;
    await success(event);
    expect(kmsKey.rotations).toBe(rotated);
    expect(materials).toHaveLength(3);
  });

  test('each material is described by its secret, JSON field and stage; characters KMS refuses become _, and it stops at 256', () => {
    expect(materialDescription({ SecretId: SECRET_ARN, JsonField: 'keys.prod#1', VersionStage: 'AWSPREVIOUS' })).toBe(`secret ${SECRET_ARN} field keys.prod_1 stage AWSPREVIOUS`);
    expect(materialDescription({ SecretId: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${'n'.repeat(300)}` })).toHaveLength(256);
  });

  test('nothing the handler writes holds a material', async () => {
    keyHolding(SECRET_ARN);
    await success(update(listing(SECRET_2, [SECRET_ARN], { ValidTo: inDays(30) }), listing(SECRET_ARN, [])));
    await failure(update(listing(SECRET_3, [SECRET_2]), listing(SECRET_2, [SECRET_ARN])));
    expectNoLeak(output.join('\n'), ...store.values());
    for (const input of importInputs()) expect(input.KeyMaterialDescription).toMatch(/^[a-zA-Z0-9:/_\s.-]{1,256}$/);
  });
});
