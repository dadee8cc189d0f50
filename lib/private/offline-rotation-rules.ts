import { Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { constructError } from './construct-error';
import type { KeySettings } from './key-construction';
import type { OfflineKeyKind } from './offline-wrapping';
import { MAX_ON_DEMAND_ROTATIONS } from '../shared/limits';

/**
 * Offline rotation (materialGeneration), refused at synth where it cannot work: a number that is not
 * a whole generation within KMS's quota of on-demand rotations, an HMAC or asymmetric key (KMS
 * rotates only symmetric encryption keys), and a multi-Region key or replica (KMS allows it, but each
 * replica would need its own wrap of the new material under its own Region's parameters before the
 * primary may rotate: not built for this mode). A lowered number cannot be seen at synth (the key's
 * materials are known only at deploy time): the handler treats it as the rollback it looks like.
 */
export function validateGeneration(scope: IConstruct, settings: KeySettings, generation: number | undefined, kind: OfflineKeyKind): void {
  if (generation === undefined) return;
  if (!Token.isUnresolved(generation) && (!Number.isInteger(generation) || generation < 1 || generation > MAX_ON_DEMAND_ROTATIONS + 1)) {
    throw constructError(scope, `materialGeneration must be a whole number from 1 (the first material) to ${MAX_ON_DEMAND_ROTATIONS + 1} `
      + `(KMS allows ${MAX_ON_DEMAND_ROTATIONS} on-demand rotations per key); got ${generation}. Raise it by one for each rotation.`);
  }
  if (!Token.isUnresolved(settings.keySpec) && settings.keySpec !== kms.KeySpec.SYMMETRIC_DEFAULT) {
    throw constructError(scope, `materialGeneration needs a SYMMETRIC_DEFAULT key; got ${settings.keySpec}. `
      + 'KMS rotates only symmetric encryption keys: an HMAC or asymmetric key keeps its first material for life, so new material needs a new ImportedKmsKey.');
  }
  if (kind.multiRegion || kind.replica) {
    throw constructError(scope, `materialGeneration is not supported on a multi-Region ${kind.replica ? 'replica' : 'key'} with KeyMaterial.fromOfflineWrapping() yet: `
      + 'KMS rotates imported multi-Region keys only once every replica holds the new material, which offline means a wrap per Region under that Region\'s parameters. '
      + 'Rotate it with KeyMaterial.fromSecret and previousKeyMaterials, or put new material in a new key.');
  }
}
