/**
 * Multi-Region keys: a primary ImportedKmsKey and an ImportedKmsReplicaKey in a stack of another
 * Region, wired the CDK way (crossRegionReferences). The handler's import into a replica is in
 * test/handler/replica.test.ts.
 */
import { App, Duration, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ImportedKmsKey, ImportedKmsReplicaKey, KeyMaterial, KeyMaterialExpiration, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { IMPORT_RESOURCE_TYPE } from '../../lib/shared/contract';
import { resourcesOf as templateResources } from '../../tools/template';

const ACCOUNT = '111122223333';

function twoRegions(primaryProps: Partial<ConstructorParameters<typeof ImportedKmsKey>[2]> = {}) {
  const app = new App();
  const primaryStack = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const replicaStack = new Stack(app, 'Replica', { env: { account: ACCOUNT, region: 'eu-west-1' }, crossRegionReferences: true });
  const primary = new ImportedKmsKey(primaryStack, 'Key', {
    keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(primaryStack, 'Material', 'prod/payments/kms-material'), { jsonField: 'key' }),
    multiRegion: true,
    ...primaryProps,
  });
  return { app, primaryStack, replicaStack, primary };
}

const resourcesOf = (stack: Stack) => templateResources(Template.fromStack(stack));

describe('a primary and its replica in two Regions', () => {
  test('the primary is multi-Region; the replica is an AWS::KMS::ReplicaKey of the primary\'s ARN, read across Regions the CDK way', () => {
    const { primaryStack, replicaStack, primary } = twoRegions();
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary });
    Template.fromStack(primaryStack).hasResourceProperties('AWS::KMS::Key', { MultiRegion: true, Origin: 'EXTERNAL' });
    const replica = Object.values(resourcesOf(replicaStack)).find((r) => r.Type === 'AWS::KMS::ReplicaKey')!;
    // crossRegionReferences: the primary's import output travels through an SSM parameter the replica stack reads.
    expect(JSON.stringify(replica.Properties.PrimaryKeyArn)).toMatch(/ExportsReader/);
    expect(replicaStack.dependencies).toContain(primaryStack);
    // Like kms.Key, the replica's policy starts with the account's full access, so IAM policies can grant use of it.
    expect(replica.Properties.KeyPolicy.Statement[0]).toEqual({
      Effect: 'Allow', Action: 'kms:*', Resource: '*',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:root`]] } },
    });
  });

  test('the replica imports from the replica secret of this Region, with the primary\'s field, and as a replica', () => {
    const { replicaStack, primary } = twoRegions();
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary });
    const resources = resourcesOf(replicaStack);
    const [imported] = Object.values(resources).filter((r) => r.Type === IMPORT_RESOURCE_TYPE);
    expect(imported.Properties).toMatchObject({
      KeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^Replica/), 'Arn'] },
      SecretId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:111122223333:secret:prod/payments/kms-material']] },
      JsonField: 'key',
      Replica: 'true',
    });
    expect(JSON.stringify(imported.Properties)).not.toMatch(/us-east-1/);
    // This Region's handler, allowed by the replica's own key policy.
    const replica = Object.values(resources).find((r) => r.Type === 'AWS::KMS::ReplicaKey')!;
    const sids = replica.Properties.KeyPolicy.Statement.map((s) => s.Sid).filter(Boolean);
    expect(sids).toEqual(['AllowImportedKmsKeyHandlerDescribe', 'AllowImportedKmsKeyHandlerParameters', 'AllowImportedKmsKeyHandlerImport']);
    expect(replica.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({ Action: 'kms:*', Principal: { AWS: expect.anything() as unknown } }));
    Template.fromStack(replicaStack).resourceCountIs('AWS::Lambda::Function', 3); // handler, provider framework, cross-Region reader
  });

  test('aliases, grants and consumers of the replica wait for its import', () => {
    const { replicaStack, primary } = twoRegions();
    const replica = new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, alias: 'alias/payments' });
    const role = new iam.Role(replicaStack, 'Consumer', { assumedBy: new iam.AccountRootPrincipal() });
    replica.grantEncryptDecrypt(role);
    const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicaImport'), 'KeyArn'] };
    const template = Template.fromStack(replicaStack);
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/payments', TargetKeyId: keyArn });
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: keyArn })]) } });
    const asIKey: kms.IKey = replica;
    expect(replicaStack.resolve(asIKey.keyArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ReplicaImport/), 'KeyArn'] });
  });

  test('a statement added to the replica lands in its key policy; its removal policy can be changed later, and only to DESTROY when it shreds', () => {
    const { replicaStack, primary } = twoRegions();
    const kept = new ImportedKmsReplicaKey(replicaStack, 'Kept', { primaryKey: primary, removalPolicy: RemovalPolicy.DESTROY });
    const statement = new iam.PolicyStatement({ sid: 'Audit', actions: ['kms:DescribeKey'], principals: [new iam.ArnPrincipal('arn:aws:iam::444455556666:role/audit')], resources: ['*'] });
    expect(kept.addToResourcePolicy(statement).statementAdded).toBe(true);
    kept.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const shredded = new ImportedKmsReplicaKey(replicaStack, 'Shredded', {
      primaryKey: primary, shredMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY, shredIfUnusedFor: Duration.days(30),
    });
    expect(() => shredded.applyRemovalPolicy(RemovalPolicy.RETAIN)).toThrow(
      'ImportedKmsReplicaKey Replica/Shredded: shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got retain; a kept key must keep its material. Destroy the key, or do not shred.');
    const replicas = Object.entries(resourcesOf(replicaStack)).filter(([, r]) => r.Type === 'AWS::KMS::ReplicaKey');
    const keptReplica = replicas.find(([id]) => id.startsWith('Kept'))![1];
    expect(keptReplica.DeletionPolicy).toBe('Retain');
    expect(keptReplica.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({ Sid: 'Audit', Action: 'kms:DescribeKey' }));
    // The replica's shred checks its own last use (KMS tracks each key of a multi-Region set apart), in its own window.
    const imports = Object.entries(resourcesOf(replicaStack)).filter(([, r]) => r.Type === IMPORT_RESOURCE_TYPE);
    expect(imports.find(([id]) => id.startsWith('Shredded'))![1].Properties.ShredIfUnusedFor).toBe(String(30 * 86_400));
  });

  test('the replica\'s expiration and wrapping default to the primary\'s; a rolling one renews in the replica\'s Region', () => {
    const { replicaStack, primary } = twoRegions({
      expiration: KeyMaterialExpiration.rolling(Duration.days(30)), wrappingKeySpec: WrappingKeySpec.RSA_3072, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_1,
    });
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary });
    const [imported] = Object.values(resourcesOf(replicaStack)).filter((r) => r.Type === IMPORT_RESOURCE_TYPE);
    expect(imported.Properties).toMatchObject({ RollingValidity: String(30 * 86400), WrappingKeySpec: 'RSA_3072', WrappingAlgorithm: 'RSAES_OAEP_SHA_1' });
    Template.fromStack(replicaStack).resourceCountIs('AWS::Events::Rule', 1);
  });

  test('a primary given by ARN, with an explicit secret of this Region', () => {
    const stack = new Stack(new App(), 'Replica', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'eu-copy');
    new ImportedKmsReplicaKey(stack, 'Replica', {
      primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', keyMaterial: KeyMaterial.fromSecret(secret), keySpec: kms.KeySpec.HMAC_256,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KMS::ReplicaKey', { PrimaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab' });
    template.hasResourceProperties(IMPORT_RESOURCE_TYPE, { KeySpec: 'HMAC_256', Replica: 'true', ValidTo: Match.absent() });
  });
});

describe('what the construct refuses, with a sentence', () => {
  test('a primary that is not multi-Region', () => {
    const { replicaStack, primary } = twoRegions({ multiRegion: false });
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary })).toThrow(
      'ImportedKmsReplicaKey Replica/Replica: the primary key Primary/Key is not multi-Region; create it with multiRegion: true (a key cannot become multi-Region after its creation).');
  });

  test('a wrapping that cannot carry the key spec, named with the replica', () => {
    const stack = new Stack(new App(), 'Replica', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    expect(() => new ImportedKmsReplicaKey(stack, 'Replica', {
      primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'eu-copy')),
      keySpec: kms.KeySpec.RSA_2048, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_256,
    })).toThrow(/^ImportedKmsReplicaKey Replica\/Replica: .*RSA_AES_KEY_WRAP_SHA/);
  });

  test('a key spec that cannot be imported, and crypto-shred of a kept replica', () => {
    const stack = new Stack(new App(), 'Replica', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const byArn = { primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', keyMaterial: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'eu-copy')) };
    expect(() => new ImportedKmsReplicaKey(stack, 'MlDsa', { ...byArn, keySpec: kms.KeySpec.ML_DSA_65 })).toThrow(
      'ImportedKmsReplicaKey Replica/MlDsa: keySpec ML_DSA_65 cannot be imported: KMS does not accept imported key material for ML-DSA keys; use a KMS-generated key (Origin AWS_KMS).');
    expect(() => new ImportedKmsReplicaKey(stack, 'Kept', { ...byArn, shredMaterialOnRemoval: true })).toThrow(
      'ImportedKmsReplicaKey Replica/Kept: shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got retain; a kept key must keep its material. Destroy the key, or do not shred.');
  });

  test('both or neither of primaryKey and primaryKeyArn', () => {
    const { replicaStack, primary } = twoRegions();
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'A', {})).toThrow(/give exactly one of primaryKey .* and primaryKeyArn/);
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'B', { primaryKey: primary, primaryKeyArn: 'arn:aws:kms:us-east-1:1:key/mrk-1' })).toThrow(/give exactly one/);
  });

  test('a replica in the primary\'s own Region', () => {
    const { primaryStack, primary } = twoRegions();
    expect(() => new ImportedKmsReplicaKey(primaryStack, 'Replica', { primaryKey: primary })).toThrow(/the replica is in us-east-1, the primary's own Region/);
  });

  test('a primary secret whose name is known only at deploy time, without an explicit keyMaterial', () => {
    const { replicaStack, primary } = twoRegions({ keyMaterial: KeyMaterial.fromSecret(new secretsmanager.Secret(new Stack(new App(), 'Other', { env: { account: ACCOUNT, region: 'us-east-1' } }), 'Generated')) });
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary })).toThrow(/has a name known only at deploy time, .* pass keyMaterial: KeyMaterial.fromSecret/);
  });

  test('a replica of a primary outside the app names its earlier materials itself', () => {
    const { replicaStack } = twoRegions();
    const secret = secretsmanager.Secret.fromSecretNameV2(replicaStack, 'Own', 'eu/material');
    new ImportedKmsReplicaKey(replicaStack, 'Replica', {
      primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      keyMaterial: KeyMaterial.fromSecret(secret, { versionStage: 'v2' }), previousKeyMaterials: [KeyMaterial.fromSecret(secret, { versionStage: 'v1' })],
    });
    const props = importOf(replicaStack);
    expect(props.PreviousMaterials).toEqual([expect.objectContaining({ VersionStage: 'v1' })]);
    expect(props.PrimaryKeyArn).toBe('arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab');
  });
});

function importOf(stack: Stack) {
  return Object.values(resourcesOf(stack)).find((r) => r.Type === IMPORT_RESOURCE_TYPE)!.Properties;
}

describe('rotation of a multi-Region key', () => {
  const stage = (stack: Stack, id: string, name: string, versionStage: string) =>
    KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, id, name), { jsonField: 'key', versionStage });
  function rotatingPrimary() {
    const app = new App();
    const primaryStack = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const primary = new ImportedKmsKey(primaryStack, 'Key', {
      multiRegion: true,
      previousKeyMaterials: [stage(primaryStack, 'V1', 'prod/payments/kms-material', 'v1'), stage(primaryStack, 'V2', 'prod/payments/kms-material', 'v2')],
      keyMaterial: stage(primaryStack, 'V3', 'prod/payments/kms-material-next', 'v3'),
    });
    const replicaStacks = ['eu-west-1', 'ap-southeast-2'].map((region) =>
      new Stack(app, `Replica-${region}`, { env: { account: ACCOUNT, region }, crossRegionReferences: true }));
    return { app, primaryStack, primary, replicaStacks };
  }

  test('the primary rotates; each replica derives the same materials in its Region, oldest first, and may list and rotate the primary', () => {
    const { primaryStack, primary, replicaStacks: [replicaStack] } = rotatingPrimary();
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary });
    expect(importOf(primaryStack).PreviousMaterials).toHaveLength(2);
    const props = importOf(replicaStack);
    expect(props.Replica).toBe('true');
    // Each material from the same-name secret of eu-west-1, at the primary's stage and field.
    expect(JSON.stringify(replicaStack.resolve(props.PreviousMaterials))).not.toContain('us-east-1');
    const previous = replicaStack.resolve(props.PreviousMaterials) as Array<Record<string, unknown>>;
    expect(previous.map(({ JsonField, VersionStage }) => ({ JsonField, VersionStage }))).toEqual([
      { JsonField: 'key', VersionStage: 'v1' }, { JsonField: 'key', VersionStage: 'v2' }]);
    expect(JSON.stringify(replicaStack.resolve((props.PreviousMaterials as Array<{ SecretId: unknown }>)[0].SecretId))).toMatch(/secret:prod\/payments\/kms-material/);
    expect(replicaStack.resolve(props)).toMatchObject({ VersionStage: 'v3', JsonField: 'key' });
    expect(JSON.stringify(replicaStack.resolve(props.SecretId))).toMatch(/secret:prod\/payments\/kms-material-next/);
    // The primary's ARN (through CDK's cross-Region reader) in the import and in the handler role's policy.
    expect(JSON.stringify(props.PrimaryKeyArn)).toMatch(/ExportsReader/);
    const policy = Template.fromStack(replicaStack).findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:ListKeyRotations', 'kms:RotateKeyOnDemand', 'kms:DescribeKey'] })]) } },
    });
    expect(Object.keys(policy)).toHaveLength(1);
    const statements = (Object.values(policy)[0] as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } })
      .Properties.PolicyDocument.Statement;
    const statement = statements.find((st) => Array.isArray(st.Action) && st.Action.includes('kms:RotateKeyOnDemand'))!;
    expect(statement.Resource).toEqual(props.PrimaryKeyArn);
    // The replica's own key policy lets the handler list its materials, not rotate it (a replica rotates through its primary).
    const replicaKey = Object.values(resourcesOf(replicaStack)).find((r) => r.Type === 'AWS::KMS::ReplicaKey')!;
    const own = (replicaKey.Properties.KeyPolicy as { Statement: Array<{ Sid?: string; Action: unknown }> }).Statement.find((st) => st.Sid === 'AllowImportedKmsKeyHandlerRotate');
    expect(own?.Action).toBe('kms:ListKeyRotations');
    // The import waits for that policy.
    const importResource = Object.values(resourcesOf(replicaStack)).find((r) => r.Type === IMPORT_RESOURCE_TYPE)!;
    expect(importResource.DependsOn).toEqual(expect.arrayContaining([Object.keys(policy)[0]]));
  });

  test('cdk deploy --all deploys the primary\'s stack before every replica stack (CDK\'s own stack dependencies, in the cloud assembly)', () => {
    const { app, primaryStack, primary, replicaStacks } = rotatingPrimary();
    for (const stack of replicaStacks) new ImportedKmsReplicaKey(stack, 'Replica', { primaryKey: primary });
    const assembly = app.synth();
    for (const stack of replicaStacks) {
      expect(assembly.getStackArtifact(stack.artifactId).dependencies.map((d) => d.id)).toContain(primaryStack.artifactId);
    }
    // The primary's stack depends on no replica stack: it never waits on a stack that deploys after it.
    expect(assembly.getStackArtifact(primaryStack.artifactId).dependencies.map((d) => d.id).filter((id) => id.startsWith('Replica'))).toEqual([]);
  });

  test('in a Stage (a CDK Pipelines wave deploys stages), the replica stacks depend on the primary\'s too', () => {
    const app = new App();
    const stageOf = new Stage(app, 'Prod');
    const primaryStack = new Stack(stageOf, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const primary = new ImportedKmsKey(primaryStack, 'Key', {
      multiRegion: true, previousKeyMaterials: [stage(primaryStack, 'V1', 'm', 'v1')], keyMaterial: stage(primaryStack, 'V2', 'm', 'v2'),
    });
    const replicaStack = new Stack(stageOf, 'Replica', { env: { account: ACCOUNT, region: 'eu-west-1' }, crossRegionReferences: true });
    new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary });
    const assembly = stageOf.synth();
    expect(assembly.getStackArtifact(replicaStack.artifactId).dependencies.map((d) => d.id)).toContain(primaryStack.artifactId);
  });

  test('a replica that lists another number of earlier materials than its primary', () => {
    const { primary, replicaStacks: [replicaStack] } = rotatingPrimary();
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, previousKeyMaterials: [stage(replicaStack, 'V1', 'm', 'v1')] }))
      .toThrow('ImportedKmsReplicaKey Replica-eu-west-1/Replica: previousKeyMaterials lists 1 materials and the primary Primary/Key lists 2; a replica holds the same materials '
        + 'as its primary, in the same order: list each of the primary\'s previousKeyMaterials, from a secret of this Region.');
  });

  test('a replica with its own keyMaterial of a rotated primary must name its earlier materials', () => {
    const { primary, replicaStacks: [replicaStack] } = rotatingPrimary();
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Replica', { primaryKey: primary, keyMaterial: stage(replicaStack, 'Own', 'eu', 'v3') }))
      .toThrow('ImportedKmsReplicaKey Replica-eu-west-1/Replica: the primary Primary/Key lists 2 previousKeyMaterials and this replica names its own keyMaterial, '
        + 'so the replica\'s earlier materials cannot be derived from the primary\'s secrets: pass previousKeyMaterials too, each from a secret of this Region.');
  });

  test('the rules of single-Region rotation hold for the primary and its replicas (symmetric keys only, one source per material)', () => {
    expect(() => twoRegions({ keySpec: kms.KeySpec.HMAC_256, previousKeyMaterials: [KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(new Stack(), 'P', 'old'))] }))
      .toThrow(/previousKeyMaterials needs a SYMMETRIC_DEFAULT key; got HMAC_256/);
    const { replicaStack } = twoRegions();
    let sameCount = 0;
    const same = () => KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretNameV2(replicaStack, 'Same' + String(++sameCount), 'eu'), { versionStage: 'v1' });
    expect(() => new ImportedKmsReplicaKey(replicaStack, 'Replica', {
      primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', keyMaterial: same(), previousKeyMaterials: [same()],
    })).toThrow(/ImportedKmsReplicaKey Replica\/Replica: keyMaterial reads the same secret, field and version stage as previousKeyMaterials\[0\]/);
  });
});
