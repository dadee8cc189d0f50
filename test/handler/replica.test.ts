/**
 * The handler's import into a multi-Region replica key. The primary and replica constructs at synth
 * time are in test/construct/replica.test.ts.
 */
import { ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { handler } from '../../lambda';
import { create, kms as kmsMock, kmsKey, props, resetHarness, state } from './support/handler-harness';

describe('the handler', () => {
  // A replica of a primary that holds the secret's material: KMS associates that material with the replica.
  beforeEach(() => {
    resetHarness();
    kmsKey.replicaOf(state.material);
  });
  afterEach(() => jest.restoreAllMocks());

  test('imports into a replica as EXISTING_KEY_MATERIAL, even on its Create (KMS documents it for replicas)', async () => {
    await handler(create(props({ Replica: 'true' })));
    expect(kmsMock.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBe('EXISTING_KEY_MATERIAL');
    kmsMock.resetHistory();
    await handler(create(props()));
    expect(kmsMock.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBeUndefined();
  });
});
