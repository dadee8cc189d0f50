/**
 * Adoption (ImportedKeyMaterial, `Adopt: 'true'`): the first deploy that names a key this stack did
 * not create proves, before it changes anything, that DescribeKey says Origin EXTERNAL with the
 * expected key spec and usage, and that the key never held material or the secret holds the key's
 * own. Against the KMS key model (support/kms-model.ts); every refusal leaves the model's key as it
 * was (state, materials and their expirations compared before and after).
 */
import { GetSecretValueCommand, GetSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { handler } from '../../lambda';
import { ImportProperties } from '../../lib/shared/contract';
import { expectNoLeak, symmetricMaterial } from '../support/keys';
import {
  create, failure, holding, inDays, KEY_ARN, kms, kmsCalls, kmsKey, MATERIAL_ID, output, props, resetHarness, SECRET_ARN, secrets, state, success, update,
} from './support/handler-harness';

const adopt = (overrides: Partial<ImportProperties> = {}) => props({ Adopt: 'true', ...overrides });
/** Everything about the key a refusal must leave as it was. */
const snapshot = () => JSON.stringify({ view: kmsKey.describeKey({ KeyId: KEY_ARN }).KeyMetadata, materials: kmsKey.materials, rotations: kmsKey.rotations });
const imports = () => kms.commandCalls(ImportKeyMaterialCommand).map((call) => call.args[0].input);

beforeEach(() => resetHarness());

describe('a key that holds the secret\'s material', () => {
  test('is adopted by one EXISTING_KEY_MATERIAL import: no second material, its ValidTo moves, nothing else changes', async () => {
    state.key = holding(); // Enabled, never expires, holding state.material (imported by hand)
    const validTo = inDays(30);
    const response = await success(create(adopt({ ValidTo: validTo })));
    expect(response).toEqual({ PhysicalResourceId: KEY_ARN, Data: { KeyArn: KEY_ARN, KeyId: KEY_ARN.split('/')[1], KeyMaterialId: MATERIAL_ID } });
    expect(imports()).toEqual([expect.objectContaining({ ImportType: 'EXISTING_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(validTo) })]);
    expect(kmsKey.materials).toHaveLength(1);
    expect(kmsKey.keyState).toBe('Enabled');
    expect(state.key.ValidTo).toEqual(new Date(validTo));
    expect(kmsCalls()).not.toContain('RotateKeyOnDemand');
    expectNoLeak(output.join('\n'), state.material);
  });

  test('a re-sent Create proves again and succeeds without a second material', async () => {
    state.key = holding();
    await success(create(adopt({ ValidTo: inDays(30) })));
    await success(create(adopt({ ValidTo: inDays(30) })));
    expect(kmsKey.materials).toHaveLength(1);
    expect(kmsKey.keyState).toBe('Enabled');
  });

  test('an HMAC key is proven by an import without ImportType (KMS compares it with the key\'s own)', async () => {
    kmsKey.keySpec = 'HMAC_256';
    state.key = holding();
    kmsKey.keySpec = 'HMAC_256'; // force() resets the spec
    await success(create(adopt({ KeySpec: 'HMAC_256', ValidTo: inDays(10) })));
    expect(imports()).toEqual([expect.objectContaining({ ImportType: undefined })]);
    expect(kmsCalls()).not.toContain('ListKeyRotations');
    expect(state.key.ValidTo).toEqual(new Date(inDays(10)));
  });

  test('a later Update of the adopted key is an ordinary update: no proof, no ListKeyRotations', async () => {
    state.key = holding();
    const first = adopt({ ValidTo: inDays(30) });
    await success(create(first));
    kms.resetHistory();
    await success(update(adopt({ ValidTo: inDays(60) }), first));
    expect(kmsCalls()).not.toContain('ListKeyRotations');
    expect(state.key.ValidTo).toEqual(new Date(inDays(60)));
  });

  test('a scheduled renewal of an adopted rolling key renews without a proof', async () => {
    state.key = holding(inDays(1));
    const rolling = adopt({ RollingValidity: String(30 * 86_400), RenewalInterval: '86400' });
    await handler({ ImportedKmsKeyRenewal: [rolling] });
    expect(kmsCalls()).not.toContain('ListKeyRotations');
    expect(state.key.ValidTo!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  test('Delete leaves the key and its material; with ShredOnDelete it deletes the material, never the key', async () => {
    state.key = holding();
    await handler({ RequestType: 'Delete', PhysicalResourceId: KEY_ARN, ResourceProperties: adopt() });
    expect(kmsCalls()).toEqual([]);
    await handler({ RequestType: 'Delete', PhysicalResourceId: KEY_ARN, ResourceProperties: adopt({ ShredOnDelete: 'true' }) });
    expect(kmsCalls()).toEqual(['GetKeyLastUsage', 'ListKeyRotations', 'DeleteImportedKeyMaterial']);
    expect(kmsKey.keyState).toBe('PendingImport');
  });
});

describe('a key that never held material', () => {
  test('gets its first import (ImportType left to KMS: NEW_KEY_MATERIAL)', async () => {
    const response = await success(create(adopt()));
    expect(imports()).toEqual([expect.objectContaining({ ImportType: undefined })]);
    expect(kmsCalls().slice(0, 2)).toEqual(['DescribeKey', 'ListKeyRotations']);
    expect(response.PhysicalResourceId).toBe(KEY_ARN);
    expect(kmsKey.keyState).toBe('Enabled');
    expect(kmsKey.materials.map((m) => m.bytes)).toEqual([state.material]);
  });
});

describe('a rotated key (several materials)', () => {
  const SECRET_2 = SECRET_ARN.replace('kms-material', 'kms-material-2');
  let older: Buffer;
  beforeEach(() => {
    older = symmetricMaterial();
    secrets.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => ({
      SecretBinary: new Uint8Array(input.SecretId === SECRET_2 ? older : state.material),
    }));
    kmsKey.holdMaterials([{ bytes: older }, { bytes: state.material }]);
  });

  test('is adopted when every material is listed in order: each proven, the current one first', async () => {
    await success(create(adopt({ PreviousMaterials: [{ SecretId: SECRET_2 }], ValidTo: inDays(30) })));
    expect(imports().map((i) => i.ImportType)).toEqual(['EXISTING_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL']);
    expect(kmsKey.materials.map((m) => m.validTo)).toEqual([new Date(inDays(30)), new Date(inDays(30))]);
    expect(kmsKey.materials).toHaveLength(2);
    expect(kmsKey.rotations).toBe(1);
  });

  test('listing only the current material fails before any import, naming what KMS holds', async () => {
    const before = snapshot();
    const message = await failure(create(adopt()));
    expect(message).toContain(`KMS key ${KEY_ARN} holds 2 materials`);
    expect(message).toContain('this deployment lists 1. Nothing was changed.');
    expect(imports()).toEqual([]);
    expect(snapshot()).toBe(before);
  });

  test('materials listed in the wrong order fail on the current one, before any import succeeds', async () => {
    const before = snapshot();
    // The secret holds the older material as "current": KMS accepts it as the key's own but answers with its id.
    secrets.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => ({
      SecretBinary: new Uint8Array(input.SecretId === SECRET_2 ? state.material : older),
    }));
    const message = await failure(create(adopt({ PreviousMaterials: [{ SecretId: SECRET_2 }] })));
    expect(message).toContain('but not its current material (keyMaterial)');
    expect(imports()).toHaveLength(1);
    // The key's state, current material and its expiration are untouched; the older material KMS accepted
    // got the requested expiration (here: never, as before) and the secret's description, as the sentence says.
    const view = (json: string) => (JSON.parse(json) as { view: unknown }).view;
    expect(view(snapshot())).toEqual(view(before));
    expect(kmsKey.current()!.bytes).toEqual(state.material);
    expect(kmsKey.materials[0].description).toContain(SECRET_ARN);
  });

  test('a key with material pending rotation is refused before any import', async () => {
    kmsKey.materials.push({ id: 'pending', bytes: symmetricMaterial(), state: 'PENDING_ROTATION' });
    const before = snapshot();
    expect(await failure(create(adopt({ PreviousMaterials: [{ SecretId: SECRET_2 }] })))).toContain('has material pending rotation (KeyMaterialId pending)');
    expect(imports()).toEqual([]);
    expect(snapshot()).toBe(before);
  });

  test('after adoption, a deploy that appends a new material rotates it in', async () => {
    const adopted = adopt({ PreviousMaterials: [{ SecretId: SECRET_2 }] });
    await success(create(adopted));
    const SECRET_3 = SECRET_ARN.replace('kms-material', 'kms-material-3');
    const newest = symmetricMaterial();
    const current = state.material;
    secrets.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => ({
      SecretBinary: new Uint8Array(input.SecretId === SECRET_2 ? older : input.SecretId === SECRET_3 ? newest : current),
    }));
    await success(update(adopt({ SecretId: SECRET_3, PreviousMaterials: [{ SecretId: SECRET_2 }, { SecretId: SECRET_ARN }] }), adopted));
    expect(kmsKey.materials).toHaveLength(3);
    expect(kmsKey.current()!.bytes).toEqual(newest);
    expect(kmsCalls()).toContain('RotateKeyOnDemand');
  });
});

describe('refusals: a sentence saying what KMS holds and what to do, and the key exactly as it was', () => {
  const refused = async (event: ReturnType<typeof create>, ...expected: string[]) => {
    const before = snapshot();
    const message = await failure(event);
    for (const text of expected) expect(message).toContain(text);
    expect(message).toContain('Nothing was changed.');
    expect(snapshot()).toBe(before);
    expectNoLeak(`${message}\n${output.join('\n')}`, state.material);
    return message;
  };

  test('different material: KMS refuses the EXISTING_KEY_MATERIAL import (IncorrectKeyMaterialException)', async () => {
    const keys = symmetricMaterial();
    kmsKey.holdMaterials([{ bytes: keys, validTo: new Date(inDays(5)) }]);
    await refused(create(adopt({ ValidTo: inDays(30) })), `KMS refused the material from secret ${SECRET_ARN} stage AWSCURRENT as its current material (keyMaterial)`,
      'IncorrectKeyMaterialException', 'Put the key\'s own material in the secret');
    expect(imports()).toHaveLength(1);
    expect(state.key.ValidTo).toEqual(new Date(inDays(5)));
  });

  test('different material in an HMAC key', async () => {
    kmsKey.holdMaterials([{ bytes: symmetricMaterial() }]);
    kmsKey.keySpec = 'HMAC_256';
    await refused(create(adopt({ KeySpec: 'HMAC_256' })), 'IncorrectKeyMaterialException');
  });

  test('a key whose Origin is not EXTERNAL: no import is attempted', async () => {
    kmsKey.origin = 'AWS_KMS';
    await refused(create(adopt()), `KMS key ${KEY_ARN} has Origin AWS_KMS, not EXTERNAL`);
    expect(kmsCalls()).toEqual(['DescribeKey']);
  });

  test('a wrong key spec, and a wrong key usage', async () => {
    kmsKey.keySpec = 'HMAC_256';
    await refused(create(adopt()), `KMS key ${KEY_ARN} is a HMAC_256 key, but keySpec says SYMMETRIC_DEFAULT`, 'set keySpec to HMAC_256');
    kmsKey.keySpec = 'RSA_2048';
    kmsKey.keyUsage = 'SIGN_VERIFY';
    await refused(create(adopt({ KeySpec: 'RSA_2048', WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' })),
      'has key usage SIGN_VERIFY, but keyUsage says ENCRYPT_DECRYPT');
    expect(imports()).toEqual([]);
  });

  test('a Disabled key is never imported into or enabled', async () => {
    state.key = holding(inDays(5), 'Disabled');
    await refused(create(adopt({ ValidTo: inDays(30) })), `KMS key ${KEY_ARN} is Disabled`, `aws kms enable-key --key-id ${KEY_ARN}`);
    expect(kmsCalls()).toEqual(['DescribeKey']);
  });

  test('a PendingDeletion key', async () => {
    state.key = holding(undefined, 'PendingDeletion');
    await refused(create(adopt()), 'is PendingDeletion, and adopting it never cancels a deletion', 'aws kms cancel-key-deletion');
  });

  test('a key whose material expired or was deleted: adoption never brings it back', async () => {
    state.key = holding(inDays(5));
    kmsKey.deleteImportedKeyMaterial({ KeyId: KEY_ARN });
    await refused(create(adopt()), `is PendingImport but held material before (${MATERIAL_ID}`, 'Restoring deleted material');
    expect(imports()).toEqual([]);
  });

  test('on an Update (a rollback to a key adopted before), a Disabled key holding the requested expiration is left alone', async () => {
    state.key = holding(inDays(30), 'Disabled');
    const back = adopt({ ValidTo: inDays(30) });
    const response = await success(update(back, adopt({ KeyArn: KEY_ARN.replace('1234abcd', '9999abcd') })));
    expect(response.PhysicalResourceId).toBe(KEY_ARN);
    expect(imports()).toEqual([]);
    expect(kmsKey.keyState).toBe('Disabled');
  });
});
