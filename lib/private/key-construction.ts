import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { constructError } from './construct-error';
import { validateExpiration } from './expiration-rules';
import type { KeyMaterial } from '../key-material';
import { KeyMaterialExpiration } from '../key-material-expiration';
import { defaultWrappingAlgorithm, importConfigurationProblem, IMPORTABLE_KEY_SPECS } from '../shared/key-spec-rules';
import { DEFAULT_KEY_SPEC, DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS, DEFAULT_WRAPPING_KEY_SPEC } from '../shared/limits';
import type { WrappingAlgorithm, WrappingKeySpec } from '../wrapping';

/**
 * The construction path ImportedKmsKey and ImportedKmsReplicaKey share: the defaults of every
 * setting, then every synth-time check, each naming the construct that raised it. A value known
 * only at deploy time (a token) is skipped by every check that needs it.
 */

/** What a key's props say about its import; every field may be left out. */
export interface KeySettingsInput {
  readonly keySpec?: kms.KeySpec;
  readonly keyUsage?: kms.KeyUsage;
  readonly wrappingKeySpec?: WrappingKeySpec;
  readonly wrappingAlgorithm?: WrappingAlgorithm;
  readonly expiration?: KeyMaterialExpiration;
  readonly removalPolicy?: RemovalPolicy;
  readonly shredMaterialOnRemoval?: boolean;
  readonly shredIfUnusedFor?: Duration;
}

/** The settings with their defaults filled in, checked. */
export interface KeySettings {
  readonly keySpec: kms.KeySpec;
  /** Undefined when the key spec is a token and no usage was given: CloudFormation's default applies. */
  readonly keyUsage?: kms.KeyUsage;
  readonly wrappingKeySpec: WrappingKeySpec;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly expiration: KeyMaterialExpiration;
  readonly removalPolicy: RemovalPolicy;
  readonly shred: boolean;
  /** With shred: the seconds the key must have gone unused (0: shred without asking), or a token resolving to them. */
  readonly shredIfUnusedFor?: string;
}

export function keySettings(scope: IConstruct, input: KeySettingsInput): KeySettings {
  const keySpec = input.keySpec ?? DEFAULT_KEY_SPEC as kms.KeySpec;
  const known = (value: string | undefined) => (value === undefined || Token.isUnresolved(value) ? undefined : value);
  const specKnown = known(keySpec);
  // An unknown key spec is refused below; one known only at deploy time leaves the usage to CloudFormation's default.
  const keyUsage = input.keyUsage ?? (specKnown ? IMPORTABLE_KEY_SPECS[specKnown]?.usages[0] as kms.KeyUsage | undefined : undefined);
  const wrappingKeySpec = input.wrappingKeySpec ?? DEFAULT_WRAPPING_KEY_SPEC as WrappingKeySpec;
  // A key spec known only at deploy time gets RSA-OAEP, unless told otherwise: RSA keys need wrappingAlgorithm set.
  const wrappingAlgorithm = input.wrappingAlgorithm ?? defaultWrappingAlgorithm(specKnown ?? DEFAULT_KEY_SPEC) as WrappingAlgorithm;
  const problem = importConfigurationProblem(specKnown, known(keyUsage), known(wrappingKeySpec), known(wrappingAlgorithm));
  if (problem) throw constructError(scope, problem);
  const expiration = input.expiration ?? KeyMaterialExpiration.never();
  validateExpiration(scope, expiration, new Date());
  const removalPolicy = input.removalPolicy ?? RemovalPolicy.RETAIN;
  const shred = input.shredMaterialOnRemoval ?? false;
  if (shred) requireDestroy(scope, removalPolicy);
  const shredIfUnusedFor = shredWindow(scope, shred, input.shredIfUnusedFor);
  return { keySpec, keyUsage, wrappingKeySpec, wrappingAlgorithm, expiration, removalPolicy, shred, shredIfUnusedFor };
}

/** The shred's unused-for window in seconds, checked: only for a key that shreds, never negative. */
function shredWindow(scope: IConstruct, shred: boolean, window: Duration | undefined): string | undefined {
  if (window === undefined) return shred ? String(DEFAULT_SHRED_IF_UNUSED_FOR_SECONDS) : undefined;
  if (!shred) throw constructError(scope, 'shredIfUnusedFor applies only to a key that shreds its material; set shredMaterialOnRemoval: true, or leave shredIfUnusedFor out.');
  if (window.isUnresolved()) {
    try {
      return Token.asString(window.toSeconds());
    } catch {
      throw constructError(scope, `shredIfUnusedFor known only at deploy time must be given in seconds, e.g. Duration.seconds(parameter.valueAsNumber); got ${window.toHumanString()}.`);
    }
  }
  return String(window.toSeconds());
}

/** Crypto-shred only for a key that leaves for good: a kept key must keep its material. */
export function requireDestroy(scope: IConstruct, policy: RemovalPolicy): void {
  if (policy === RemovalPolicy.DESTROY) return;
  throw constructError(scope, `shredMaterialOnRemoval needs removalPolicy RemovalPolicy.DESTROY, got ${policy}; `
    + 'a kept key must keep its material. Destroy the key, or do not shred.');
}

/**
 * A material given in props, checked for what TypeScript cannot promise a JavaScript or
 * Python caller: that it is there, and made by KeyMaterial.fromSecret or fromOfflineWrapping.
 */
export function requireMaterial(scope: IConstruct, prop: string, material: KeyMaterial | undefined): KeyMaterial {
  if (material?.secret || material?.offlineWrapping) return material;
  throw constructError(scope, `${prop} is required and must be a KeyMaterial, e.g. KeyMaterial.fromSecret(secret) or KeyMaterial.fromOfflineWrapping(); got ${material === undefined || material === null ? 'none' : `a ${typeof material} that is not one`}.`);
}
