/**
 * ImportedKeyMaterial against the emulators: a key imported into by hand with the SDK, then adopted
 * by the synthesized handler bundle. Every refusal leaves the key exactly as it was: state,
 * expiration, key policy, and its material (a ciphertext or MAC made before still checks out).
 *
 * Neither emulator answers ListKeyRotations (both HTTP 501), which the proof of a symmetric key
 * needs before it imports (docs/emulators.md): on local-kms the symmetric refusals DescribeKey
 * decides are run, and a proof that cannot list is shown to change nothing; the success path runs
 * on LocalStack with an HMAC key (KMS lists no materials for those).
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  CreateKeyCommand, DisableKeyCommand, GenerateMacCommand, GetKeyPolicyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient,
} from '@aws-sdk/client-kms';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { wrapKeyMaterial } from '../../lambda/material/wrap';
import { ImportedKeyMaterial, ImportedKeyMaterialProps, KeyMaterial, WrappingKeySpec } from '../../lib';
import { EmulatedDeployment, synthesize } from '../../tools/emulated-deployment';
import { EmulatorHarness, failureOf } from '../support/emulator-harness';
import { expectNoLeak } from '../support/keys';
import { startLocalStack } from '../support/localstack';

jest.setTimeout(180_000);

/** What the operator did before adopting: CreateKey (Origin EXTERNAL) and one import by hand. */
async function keyImportedByHand(client: KMSClient, material: Buffer | undefined, spec: { KeySpec?: string; KeyUsage?: string; Origin?: string } = {}): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({
    Origin: (spec.Origin ?? 'EXTERNAL') as 'EXTERNAL', KeySpec: spec.KeySpec as 'HMAC_256' | undefined, KeyUsage: spec.KeyUsage as 'GENERATE_VERIFY_MAC' | undefined,
  }));
  const keyArn = KeyMetadata!.Arn!;
  if (material) {
    const parameters = await client.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }));
    await client.send(new ImportKeyMaterialCommand({
      KeyId: keyArn, ImportToken: parameters.ImportToken, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      EncryptedKeyMaterial: wrapKeyMaterial(material, Buffer.from(parameters.PublicKey!), 'RSAES_OAEP_SHA_256'),
    }));
  }
  return keyArn;
}

/** A stack adopting `keyArn` with the material of `secretArn`, and the deployment that plays CloudFormation. */
function adoption(h: EmulatorHarness, keyArn: string, secretArn: string, props: Partial<ImportedKeyMaterialProps> = {}): EmulatedDeployment {
  const synthesized = synthesize((stack) => new ImportedKeyMaterial(stack, 'Material', {
    key: kms.Key.fromKeyArn(stack, 'Existing', keyArn),
    keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', secretArn)),
    wrappingKeySpec: WrappingKeySpec.RSA_2048,
    ...props,
  }));
  return new EmulatedDeployment(h.emulators, synthesized);
}

/** Everything about the key a refusal must leave as it was (the material is checked by its own probe). */
async function keyState(h: EmulatorHarness, keyArn: string) {
  const { KeyState, Enabled, ExpirationModel, ValidTo, Origin, KeySpec } = await h.describeKey(keyArn);
  const { Policy } = await h.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }));
  return { KeyState, Enabled, ExpirationModel, ValidTo, Origin, KeySpec, Policy };
}

describe('local-kms + moto', () => {
  const h = new EmulatorHarness();

  const refused = async (keyArn: string, secretArn: string, props: Partial<ImportedKeyMaterialProps>, ...sentence: string[]) => {
    const before = await keyState(h, keyArn);
    const [outcome] = await h.invoke(adoption(h, keyArn, secretArn, props), adoption(h, keyArn, secretArn, props).createEvent('Material'));
    const reason = failureOf(outcome);
    for (const text of sentence) expect(reason).toContain(text);
    expect(await keyState(h, keyArn)).toEqual(before);
    return reason;
  };

  test('a key that is not EXTERNAL is refused after DescribeKey alone, and stays as it was', async () => {
    const keyArn = await keyImportedByHand(h.kms, undefined, { Origin: 'AWS_KMS' });
    const ciphertext = await h.encrypt(keyArn, Buffer.from('before'));
    const reason = await refused(keyArn, await h.newSecret({ SecretBinary: h.newMaterial() }), {},
      `KMS key ${keyArn} has Origin AWS_KMS, not EXTERNAL`, 'Nothing was changed.');
    expect(reason).not.toContain('ListKeyRotations');
    expect(await h.decrypt(keyArn, ciphertext)).toEqual(Buffer.from('before'));
  });

  test('a wrong key spec is refused, and the key keeps its material', async () => {
    const material = h.newMaterial();
    const keyArn = await keyImportedByHand(h.kms, material);
    const ciphertext = await h.encrypt(keyArn, Buffer.from('before'));
    await refused(keyArn, await h.newSecret({ SecretBinary: material }), { keySpec: kms.KeySpec.HMAC_256 },
      `KMS key ${keyArn} is a SYMMETRIC_DEFAULT key, but keySpec says HMAC_256`, 'Nothing was changed.');
    expect(await h.decrypt(keyArn, ciphertext)).toEqual(Buffer.from('before'));
  });

  test('a Disabled key is refused and stays Disabled (local-kms would import into it: the handler never tries)', async () => {
    const material = h.newMaterial();
    const keyArn = await keyImportedByHand(h.kms, material);
    await h.kms.send(new DisableKeyCommand({ KeyId: keyArn }));
    await refused(keyArn, await h.newSecret({ SecretBinary: material }), {}, `KMS key ${keyArn} is Disabled`, 'aws kms enable-key');
    expect((await h.describeKey(keyArn)).KeyState).toBe('Disabled');
  });

  test('wrong material: the proof cannot list the key\'s materials here (ListKeyRotations: HTTP 501), so it stops with a sentence and changes nothing', async () => {
    const keyArn = await keyImportedByHand(h.kms, h.newMaterial());
    const ciphertext = await h.encrypt(keyArn, Buffer.from('before'));
    await refused(keyArn, await h.newSecret({ SecretBinary: h.newMaterial() }), {}, `ListKeyRotations failed for KMS key ${keyArn}`);
    expect(await h.decrypt(keyArn, ciphertext)).toEqual(Buffer.from('before'));
  });

  afterAll(() => expectNoLeak([...EmulatedDeployment.transcript, ...h.outcomes.map((o) => JSON.stringify(o))].join('\n'), ...h.materials));
});

describe('LocalStack + moto', () => {
  const h = new EmulatorHarness(startLocalStack);
  const MESSAGE = Buffer.from('a MAC made before the adoption');
  const mac = async (keyArn: string) => Buffer.from((await h.kms.send(new GenerateMacCommand({ KeyId: keyArn, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))).Mac!);

  test('an HMAC key imported into by hand is adopted: one proof import, no second material, the same MAC, still Enabled', async () => {
    const material = h.newMaterial(32);
    const keyArn = await keyImportedByHand(h.kms, material, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const before = await keyState(h, keyArn);
    expect(await mac(keyArn)).toEqual(createHmac('sha256', material).update(MESSAGE).digest());
    const deployment = adoption(h, keyArn, await h.newSecret({ SecretString: material.toString('base64') }), { keySpec: kms.KeySpec.HMAC_256 });
    const [outcome] = await h.invoke(deployment, deployment.createEvent('Material'));
    expect(outcome).toEqual({ status: 'SUCCESS', response: { PhysicalResourceId: keyArn, Data: { KeyArn: keyArn, KeyId: keyArn.split('/')[1], KeyMaterialId: expect.any(String) as unknown } } });
    expect(await keyState(h, keyArn)).toEqual(before);
    expect(await mac(keyArn)).toEqual(createHmac('sha256', material).update(MESSAGE).digest());
    // A re-sent Create proves again and succeeds.
    expect((await h.invoke(deployment, deployment.createEvent('Material')))[0].status).toBe('SUCCESS');
  });

  test('a wrong key spec (HMAC_256 key, keySpec HMAC_384) is refused and the key keeps its MAC', async () => {
    const material = h.newMaterial(48);
    const keyArn = await keyImportedByHand(h.kms, material.subarray(0, 32), { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const before = await keyState(h, keyArn);
    const deployment = adoption(h, keyArn, await h.newSecret({ SecretBinary: material }), { keySpec: kms.KeySpec.HMAC_384 });
    const reason = failureOf((await h.invoke(deployment, deployment.createEvent('Material')))[0]);
    expect(reason).toContain(`KMS key ${keyArn} is a HMAC_256 key, but keySpec says HMAC_384`);
    expect(await keyState(h, keyArn)).toEqual(before);
    expect(await mac(keyArn)).toEqual(createHmac('sha256', material.subarray(0, 32)).update(MESSAGE).digest());
  });

  test('probe: LocalStack accepts other material as a re-import of an HMAC key, so the refusal is covered by the KMS model', async () => {
    const keyArn = await keyImportedByHand(h.kms, randomBytes(32), { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const parameters = await h.kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const other = await h.kms.send(new ImportKeyMaterialCommand({
      KeyId: keyArn, ImportToken: parameters.ImportToken, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      EncryptedKeyMaterial: wrapKeyMaterial(randomBytes(32), Buffer.from(parameters.PublicKey!), 'RSAES_OAEP_SHA_256'),
    })).then(() => 'accepted', (e: Error) => e.name);
    // If this starts failing with IncorrectKeyMaterialException, LocalStack became strict: add the refusal here.
    expect(other).toBe('accepted');
  });

  afterAll(() => expectNoLeak([...EmulatedDeployment.transcript, ...h.outcomes.map((o) => JSON.stringify(o))].join('\n'), ...h.materials));
});
