/**
 * Rotation with the synthesized bundle. LocalStack implements ImportType NEW_KEY_MATERIAL and
 * RotateKeyOnDemand, so the key is rotated twice there; each ciphertext is checked without trusting
 * the emulator's metadata: LocalStack's ciphertext blob (key id, IV, tag, AES-256-GCM of the padded
 * plaintext) is opened locally with the material that should have made it. local-kms has no
 * rotation: there the rotation must fail with a sentence and lose nothing.
 * LocalStack lacks ListKeyRotations, so the paths that examine a key's materials are unit-tested
 * (test/rotation.test.ts); README lists what each emulator checks.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { ImportProperties } from '../../lib/shared/contract';
import { EmulatorHarness, failureOf } from '../support/emulator-harness';
import { EmulatedDeployment } from '../../tools/emulated-deployment';
import { startEmulators } from '../../tools/emulators';
import { startLocalStack } from '../support/localstack';
import { expectNoLeak } from '../support/keys';

jest.setTimeout(180_000);

/** LocalStack's symmetric ciphertext blob, opened with `material`: throws when another material made it. */
function openLocally(blob: Uint8Array, material: Buffer): Buffer {
  const bytes = Buffer.from(blob);
  const iv = bytes.subarray(36, 52);
  const tag = bytes.subarray(52, 68);
  const decipher = createDecipheriv('aes-256-gcm', material, iv);
  decipher.setAuthTag(tag);
  const padded = Buffer.concat([decipher.update(bytes.subarray(68)), decipher.final()]);
  return padded.subarray(0, padded.length - padded[padded.length - 1]);
}

/** The three epochs of one key: material 1, then 2 (1 earlier), then 3 (1 and 2 earlier), from the synthesized last one. */
function epochs(last: ImportProperties): ImportProperties[] {
  const [first, second] = last.PreviousMaterials!;
  return [
    { ...last, ...first, PreviousMaterials: undefined },
    { ...last, ...second, PreviousMaterials: [first] },
    last,
  ];
}

/** A key synthesized with three materials (the last current), created in the emulator but not imported into yet. */
async function rotatingKey(h: EmulatorHarness): Promise<{ deployment: EmulatedDeployment; materials: Buffer[]; phases: ImportProperties[] }> {
  const materials = [h.newMaterial(), h.newMaterial(), h.newMaterial()];
  const arns = await Promise.all(materials.map((m) => h.newSecret({ SecretBinary: m })));
  const deployment = await h.deploy([{ id: 'Rotating', secretArn: arns[2], previousSecretArns: arns.slice(0, 2) }]);
  return { deployment, materials, phases: epochs(deployment.properties('Rotating')) };
}

describe('LocalStack', () => {
  const h = new EmulatorHarness(startLocalStack);

  test('rotating twice: each epoch\'s ciphertexts still decrypt, new ones use the newest material, and a rollback changes nothing', async () => {
    const { deployment, materials, phases } = await rotatingKey(h);
    const keyArn = phases[0].KeyArn;
    const plaintext = randomBytes(40);
    const ciphertexts: Uint8Array[] = [];

    const [created] = await h.invoke(deployment, { RequestType: 'Create', ResourceProperties: phases[0] });
    expect(created.status).toBe('SUCCESS');
    ciphertexts.push(await h.encrypt(keyArn, plaintext));
    for (const epoch of [1, 2]) {
      const [rotated] = await h.invoke(deployment, deployment.updateEvent(phases[epoch], phases[epoch - 1]));
      expect(rotated).toMatchObject({ status: 'SUCCESS', response: { Data: { KeyMaterialId: (await h.describeKey(keyArn)).CurrentKeyMaterialId } } });
      ciphertexts.push(await h.encrypt(keyArn, plaintext));
    }
    // Each ciphertext was made by its epoch's material, and by no other (checked locally).
    ciphertexts.forEach((blob, epoch) => {
      expect(openLocally(blob, materials[epoch])).toEqual(plaintext);
      for (const other of materials.filter((_, i) => i !== epoch)) expect(() => openLocally(blob, other)).toThrow();
    });
    // KMS still decrypts every epoch's ciphertexts.
    for (const blob of ciphertexts) expect(await h.decrypt(keyArn, blob)).toEqual(plaintext);

    // CloudFormation rolls the last rotation back: success, and the key keeps rotating forward.
    const [rolledBack] = await h.invoke(deployment, deployment.updateEvent(phases[1], phases[2]));
    expect(rolledBack.status).toBe('SUCCESS');
    expect(openLocally(await h.encrypt(keyArn, plaintext), materials[2])).toEqual(plaintext);
    for (const blob of ciphertexts) expect(await h.decrypt(keyArn, blob)).toEqual(plaintext);
  });

  test('no material ever appeared in handler output, responses or errors', () => {
    expectNoLeak([...EmulatedDeployment.transcript, JSON.stringify(h.outcomes)].join('\n'), ...h.materials);
  });
});

describe('local-kms (no rotation)', () => {
  const h = new EmulatorHarness(startEmulators);

  test('a rotation fails with a sentence, and the key keeps its material and keeps decrypting', async () => {
    const { deployment, phases } = await rotatingKey(h);
    const keyArn = phases[0].KeyArn;
    expect((await h.invoke(deployment, { RequestType: 'Create', ResourceProperties: phases[0] }))[0].status).toBe('SUCCESS');
    const ciphertext = await h.encrypt(keyArn, Buffer.from('before the rotation'));
    const [rotation] = await h.invoke(deployment, deployment.updateEvent(phases[1], phases[0]));
    // local-kms ignores ImportType and refuses other material; it has no ListKeyRotations to examine the key with.
    expect(failureOf(rotation)).toBe(`ImportKeyMaterial (NEW_KEY_MATERIAL) failed for KMS key ${keyArn} (IncorrectKeyMaterialException): `
      + 'KMS refused it as new material for this key. Check that the secret holds 32 bytes of new material, then retry the deployment.');
    expect(await h.decrypt(keyArn, ciphertext)).toEqual(Buffer.from('before the rotation'));
    const [rollback] = await h.invoke(deployment, deployment.updateEvent(phases[0], phases[1]));
    expect(rollback.status).toBe('SUCCESS');
  });
});
