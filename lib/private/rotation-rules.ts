import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { constructError } from './construct-error';
import { sourceOf } from './material-import';
import type { KeyMaterial } from '../key-material';
import { MAX_ON_DEMAND_ROTATIONS } from '../shared/limits';

function describeEntry(index: number, count: number): string {
  return index === count - 1 ? 'keyMaterial' : `previousKeyMaterials[${index}]`;
}

/**
 * A key that lists earlier materials rotates: only a symmetric key can (single-Region, a
 * multi-Region primary, or its replicas, which name the same materials), each material from a
 * source of its own, within KMS's quota of on-demand rotations.
 */
export function validateRotation(scope: IConstruct, keySpec: kms.KeySpec, materials: KeyMaterial[]): void {
  if (!Token.isUnresolved(keySpec) && keySpec !== kms.KeySpec.SYMMETRIC_DEFAULT) {
    throw constructError(scope, `previousKeyMaterials needs a SYMMETRIC_DEFAULT key; got ${keySpec}. `
      + 'KMS rotates only symmetric encryption keys: an HMAC or asymmetric key keeps its first material for life, so new material needs a new ImportedKmsKey.');
  }
  if (materials.length - 1 > MAX_ON_DEMAND_ROTATIONS) {
    throw constructError(scope, `${materials.length - 1} previousKeyMaterials need as many rotations, and KMS allows `
      + `${MAX_ON_DEMAND_ROTATIONS} on-demand rotations per key. Put further material in a new ImportedKmsKey.`);
  }
  const stack = Stack.of(scope);
  const seen = new Map<string, number>();
  materials.forEach((material, index) => {
    const source = JSON.stringify(stack.resolve({ ...sourceOf(material), VersionStage: material.versionStage ?? 'AWSCURRENT' }));
    const earlier = seen.get(source);
    if (earlier !== undefined) {
      throw constructError(scope, `${describeEntry(index, materials.length)} reads the same secret, field and version stage as `
        + `${describeEntry(earlier, materials.length)}; each material needs a source of its own (e.g. its own version stage).`);
    }
    seen.set(source, index);
    const stage = material.versionStage ?? 'AWSCURRENT';
    const shared = materials.some((other) => other !== material && other.secret === material.secret);
    if (stage === 'AWSPREVIOUS' || (stage === 'AWSCURRENT' && shared)) {
      Annotations.of(scope).addWarningV2('imported-kms-key:unpinned-material', `${describeEntry(index, materials.length)} reads version stage ${stage}, `
        + 'which moves whenever the secret gets a new value; the key needs every material re-readable for its lifetime (each expiration change re-imports all). '
        + 'Pin it to a version stage of its own (README, "Rotating the material").');
    }
  });
}
