/**
 * One KMS key with imported (EXTERNAL) key material, kept as the KMS API reference describes it, for
 * the handler tests (KmsKeyModel), and the KMS API that routes the commands to it (KmsModel). The
 * harness installs it behind the aws-sdk-client-mock KMS stub on every reset; a test that needs KMS
 * to answer otherwise still overrides a command with `kms.on(X)`.
 *
 * What it models (each rule as the API reference or the key-state table documents it):
 * - ImportKeyMaterial into a PendingImport, Enabled or Disabled key (not PendingDeletion). The token
 *   must be one GetParametersForImport issued; the material is unwrapped with the wrapping algorithm
 *   last asked for (RSAES_OAEP_SHA_1/256, RSA_AES_KEY_WRAP_SHA_1/256), an unwrappable one is
 *   InvalidCiphertextException. Without ImportType KMS chooses NEW_KEY_MATERIAL for a key that never
 *   held material and EXISTING_KEY_MATERIAL after. EXISTING must be material the key holds (or, for a
 *   multi-Region replica, its primary's), else IncorrectKeyMaterialException; NEW must be material it
 *   does not hold, else IncorrectKeyMaterialException. A NEW material after the first waits as
 *   PENDING_ROTATION, one at a time (a second one is KMSInvalidStateException). ExpirationModel and
 *   ValidTo must agree, and ValidTo must be in the future and at most 365 days ahead. A KeyMaterialId
 *   (EXISTING only) must be the id of the material the wrapped bytes are, else
 *   IncorrectKeyMaterialException (an assumption: KMS documents the check, not its error name).
 * - A material whose ValidTo passes, or that DeleteImportedKeyMaterial deletes, becomes PENDING_IMPORT:
 *   the key is PendingImport until that same material is imported again.
 * - RotateKeyOnDemand makes the pending material CURRENT (the current one NON_CURRENT), at most 25
 *   times; a Disabled key refuses with DisabledException, a key with nothing pending, PendingImport or
 *   PendingDeletion with KMSInvalidStateException; HMAC and asymmetric keys do not rotate, nor does a
 *   multi-Region replica (UnsupportedOperationException): it takes no NEW_KEY_MATERIAL either.
 * - Multi-Region keys (`linkReplica`): NEW_KEY_MATERIAL imported into a primary with replicas is
 *   listed as PENDING_MULTI_REGION_IMPORT_AND_ROTATION until every replica holds it (an EXISTING
 *   import of the same bytes), then as PENDING_ROTATION; RotateKeyOnDemand refuses it before that
 *   (KMSInvalidStateException, an assumption: KMS documents the states, not this refusal). A replica
 *   takes as EXISTING_KEY_MATERIAL any material its primary holds, pending or not, and lists it in
 *   the primary's state (a pending one as PENDING_ROTATION, an assumption); the primary's rotation
 *   makes it current on every replica. Deleting the primary's pending material deletes it on the
 *   replicas; deleting a replica's affects nothing else. Related keys share KeyMaterialIds.
 * - ListKeyRotations lists rotations only, or (ALL_KEY_MATERIAL) every material, with RotationDate;
 *   KMS documents no order, so the model lists newest first unless `newestFirst` is false.
 * - A key whose Origin is not EXTERNAL refuses GetParametersForImport (UnsupportedOperationException).
 * - DescribeKey is derived from the materials: KeyState, Origin, KeySpec, KeyUsage, ExpirationModel and ValidTo of the current
 *   material, and CurrentKeyMaterialId (for symmetric keys, the ones that rotate).
 * - DeleteImportedKeyMaterial (the current material, or one by id) leaves the key PendingImport,
 *   removes a material pending rotation, and has no effect on a key that holds no imported material.
 * - GetKeyLastUsage reports the last cryptographic use a test recorded (`use`), an empty KeyLastUsage
 *   when there was none, TrackingStartDate (the later of the key's creation and KMS's tracking start)
 *   and KeyCreationDate. The model runs no cryptographic operation itself, so only `use` records one.
 *
 * Simplifications: every KeyId the handler sends names the one default key, unless a test asks the
 * KmsModel for a key per ARN (`keyPerArn`, for renewals of several keys); GetParametersForImport
 * hands out the one test wrapping key pair for every WrappingKeySpec, so tests can unwrap what was
 * sent; the model does not check the material's form against the key spec (the handler's decode
 * tests do). Material ids: a key's first material gets `firstMaterialId`, every later one a SHA-256
 * of the key ARN and the bytes.
 */
import { constants, createDecipheriv, createHash, KeyObject, privateDecrypt } from 'node:crypto';
import {
  DeleteImportedKeyMaterialCommand, DeleteImportedKeyMaterialCommandInput, DescribeKeyCommand, DescribeKeyCommandInput, GetKeyLastUsageCommand,
  GetKeyLastUsageCommandInput, GetKeyLastUsageResponse, GetParametersForImportCommand,
  GetParametersForImportCommandInput, ImportKeyMaterialCommand, ImportKeyMaterialCommandInput, KeyMetadata, KMSClient, ListKeyRotationsCommand,
  ListKeyRotationsCommandInput, RotateKeyOnDemandCommand, RotateKeyOnDemandCommandInput, RotationsListEntry,
} from '@aws-sdk/client-kms';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { IMPORTABLE_KEY_SPECS } from '../../../lib/shared/key-spec-rules';

/** An AWS service error as the SDK throws it. */
export const awsError = (name: string, message = 'raw service text') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

export type ModelKeyState = 'Enabled' | 'Disabled' | 'PendingImport' | 'PendingDeletion';

/** One key material of the key, as ListKeyRotations reports it (with its bytes, which KMS keeps to compare). */
export interface Material {
  id: string;
  bytes: Buffer;
  state: 'CURRENT' | 'NON_CURRENT' | 'PENDING_ROTATION';
  /** PENDING_IMPORT once it expired or was deleted (KMS still knows it: the same bytes re-import); absent means IMPORTED. */
  importState?: 'IMPORTED' | 'PENDING_IMPORT';
  description?: string;
  /** Present: KEY_MATERIAL_EXPIRES at this time; absent: KEY_MATERIAL_DOES_NOT_EXPIRE. */
  validTo?: Date;
  /** When RotateKeyOnDemand made it current; absent for the first material and a pending one. */
  rotated?: Date;
}

export interface KmsKeyModelOptions {
  readonly keyArn: string;
  /** The wrapping key pair GetParametersForImport hands out (its public half) and the model unwraps with. */
  readonly wrapping: { readonly publicKeyDer: Buffer; readonly privateKey: KeyObject };
  readonly importToken: Buffer;
  /** The KeyMaterialId of the first material a key gets. */
  readonly firstMaterialId: string;
}

const ROTATION_QUOTA = 25;
const MAX_VALIDITY_MS = 365 * 86_400_000;
const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'];
const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];
/** RFC 5649 alternative initial value for AES key wrap with padding. */
const KWP_IV = Buffer.from('A65959A6', 'hex');
const DESCRIPTION = /^[a-zA-Z0-9:/_\s.-]{1,256}$/;

/** A copy made without Buffer.from, which tests spy on to find copies of the material. */
function copyOf(bytes: Uint8Array): Buffer {
  const copy = Buffer.alloc(bytes.length);
  copy.set(bytes);
  return copy;
}

export class KmsKeyModel {
  public keyState: ModelKeyState = 'PendingImport';
  /** The key's materials, oldest first. Never replaced, so a test may keep a reference to it. */
  public readonly materials: Material[] = [];
  /** On-demand rotations done so far (KMS allows 25). */
  public rotations = 0;
  /** The order ListKeyRotations lists materials in. */
  public newestFirst = true;
  public keySpec = 'SYMMETRIC_DEFAULT';
  /** The key's Origin: a key KMS made the material of (AWS_KMS) takes no import (UnsupportedOperationException). */
  public origin = 'EXTERNAL';
  /** The key usage; absent: the key spec's default (IMPORTABLE_KEY_SPECS). */
  public keyUsage?: string;
  /** For a multi-Region replica: the primary's materials, which KMS associates with the replica. */
  public primaryMaterials?: Buffer[];
  /** For a multi-Region replica linked to its primary's model: the primary (its materials and states). */
  public primary?: KmsKeyModel;
  /** For a multi-Region primary: its replicas' models. */
  public readonly replicas: KmsKeyModel[] = [];
  /** A multi-Region primary (with or without replicas). */
  public multiRegionPrimary = false;
  /** When the key was created, and when KMS began tracking its use (the later of that and the feature's start). */
  public createdAt = new Date();
  public trackingStart = this.createdAt;
  /** The last successful cryptographic operation with the key, as GetKeyLastUsage reports it. */
  public lastUsage?: { Operation: string; Timestamp: Date; CloudTrailEventId: string };
  private wrappingAlgorithm?: string;
  private lastRotation = 0;

  constructor(private readonly options: KmsKeyModelOptions) {}

  public get keyArn(): string {
    return this.options.keyArn;
  }

  /** A key CloudFormation just created: PendingImport, never held material. */
  public reset(): void {
    this.keyState = 'PendingImport';
    this.materials.length = 0;
    this.rotations = 0;
    this.newestFirst = true;
    this.keySpec = 'SYMMETRIC_DEFAULT';
    this.origin = 'EXTERNAL';
    this.keyUsage = undefined;
    this.primaryMaterials = undefined;
    this.primary = undefined;
    this.replicas.length = 0;
    this.multiRegionPrimary = false;
    this.wrappingAlgorithm = undefined;
    this.lastRotation = 0;
    this.createdAt = this.trackingStart = new Date();
    this.lastUsage = undefined;
  }

  /** Records a successful cryptographic operation with the key at `at`, as KMS tracks it for GetKeyLastUsage. */
  public use(operation: string, at: Date): void {
    this.lastUsage = { Operation: operation, Timestamp: at, CloudTrailEventId: `event-${at.getTime()}` };
  }

  // ---- Helpers that put the key in a state -------------------------------------------------------

  /**
   * Puts the key in the state DescribeKey's `view` shows, holding one material with `bytes`: current,
   * expiring at the view's ValidTo, in the view's KeyState. A PendingImport view is a key whose
   * material lapsed or was deleted (PENDING_IMPORT): the same bytes re-import. A key that never held
   * material is what reset() leaves.
   */
  public force(view: KeyMetadata, bytes: Buffer): void {
    this.reset();
    this.keyState = (view.KeyState ?? (view.CurrentKeyMaterialId ? 'Enabled' : 'PendingImport')) as ModelKeyState;
    this.materials.push({
      id: view.CurrentKeyMaterialId ?? this.options.firstMaterialId, bytes: copyOf(bytes), state: 'CURRENT',
      importState: this.keyState === 'PendingImport' ? 'PENDING_IMPORT' : 'IMPORTED',
      validTo: view.ExpirationModel !== 'KEY_MATERIAL_DOES_NOT_EXPIRE' && view.ValidTo ? new Date(view.ValidTo) : undefined,
    });
  }

  /** An Enabled key that imported the first of `materials` and rotated in each next one (the last is current), days apart. */
  public holdMaterials(materials: ReadonlyArray<{ readonly bytes: Buffer; readonly description?: string; readonly validTo?: Date }>): void {
    this.reset();
    const day = 86_400_000;
    materials.forEach(({ bytes, description, validTo }, i) => {
      this.materials.push({
        id: this.materialIdOf(bytes), bytes: copyOf(bytes), state: i === materials.length - 1 ? 'CURRENT' : 'NON_CURRENT', importState: 'IMPORTED',
        description, validTo, rotated: i === 0 ? undefined : new Date(Date.now() - (materials.length - i) * day),
      });
    });
    this.keyState = 'Enabled';
    this.rotations = Math.max(materials.length - 1, 0);
    this.lastRotation = materials.length > 1 ? Date.now() - day : 0;
  }

  /** Makes the key a multi-Region replica of a primary that holds `primary`. */
  public replicaOf(...primary: Buffer[]): void {
    this.primaryMaterials = primary.map(copyOf);
  }

  /** Makes this key a multi-Region primary and `replica` its replica: the replica follows this key's materials and states. */
  public linkReplica(replica: KmsKeyModel): void {
    this.multiRegionPrimary = true;
    replica.primary = this;
    replica.keySpec = this.keySpec;
    this.replicas.push(replica);
  }

  /** Whether the key holds these bytes as imported material (not expired or deleted). */
  public holds(bytes: Buffer): boolean {
    return this.materials.some((m) => m.bytes.equals(bytes) && m.importState !== 'PENDING_IMPORT');
  }

  /** The KeyMaterialState ListKeyRotations reports: a primary's pending material waits for every replica. */
  public reportedState(material: Material): string {
    if (material.state === 'PENDING_ROTATION' && this.replicas.some((replica) => !replica.holds(material.bytes))) return 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION';
    return material.state;
  }

  /** The id of the material with these bytes: the one the key holds, or the one it would get if imported now. */
  public materialIdOf(bytes: Buffer): string {
    // Related multi-Region keys share their materials' ids.
    if (this.primary) return this.primary.materialIdOf(bytes);
    const held = this.materials.find((m) => m.bytes.equals(bytes));
    if (held) return held.id;
    if (this.materials.length === 0) return this.options.firstMaterialId;
    return createHash('sha256').update(this.options.keyArn).update(bytes).digest('hex');
  }

  public current(): Material | undefined {
    return this.materials.find((m) => m.state === 'CURRENT');
  }

  // ---- The KMS API ------------------------------------------------------------------------------

  public describeKey(input: DescribeKeyCommandInput): { KeyMetadata: KeyMetadata } {
    this.lapse();
    const arn = this.arnOf(input.KeyId);
    const current = this.current();
    // DescribeKey reports CurrentKeyMaterialId for single-Region symmetric keys only (those rotate).
    const reportsMaterialId = this.symmetric();
    return {
      KeyMetadata: {
        KeyId: arn.slice(arn.lastIndexOf('/') + 1), Arn: arn, KeyState: this.keyState, Enabled: this.keyState === 'Enabled', Origin: this.origin as KeyMetadata['Origin'],
        KeySpec: this.keySpec as KeyMetadata['KeySpec'], KeyUsage: (this.keyUsage ?? IMPORTABLE_KEY_SPECS[this.keySpec]?.usages[0]) as KeyMetadata['KeyUsage'],
        MultiRegion: this.replica() || this.multiRegionPrimary,
        CurrentKeyMaterialId: reportsMaterialId ? current?.id : undefined,
        ExpirationModel: current ? (current.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE') : undefined,
        ValidTo: current?.validTo,
      },
    };
  }

  public getParametersForImport(input: GetParametersForImportCommandInput) {
    this.lapse();
    if (this.origin !== 'EXTERNAL') throw awsError('UnsupportedOperationException', `${this.arnOf(input.KeyId)} has Origin ${this.origin}.`);
    this.refusePendingDeletion(input.KeyId);
    if (!WRAPPING_KEY_SPECS.includes(input.WrappingKeySpec ?? '')) throw awsError('ValidationException', `WrappingKeySpec ${input.WrappingKeySpec} is not valid here.`);
    if (!WRAPPING_ALGORITHMS.includes(input.WrappingAlgorithm ?? '')) throw awsError('ValidationException', `WrappingAlgorithm ${input.WrappingAlgorithm} is not supported.`);
    this.wrappingAlgorithm = input.WrappingAlgorithm;
    return {
      KeyId: this.arnOf(input.KeyId), ImportToken: new Uint8Array(this.options.importToken), PublicKey: new Uint8Array(this.options.wrapping.publicKeyDer),
      ParametersValidTo: new Date(Date.now() + 86_400_000),
    };
  }

  public importKeyMaterial(input: ImportKeyMaterialCommandInput) {
    this.lapse();
    const arn = this.arnOf(input.KeyId);
    this.refusePendingDeletion(input.KeyId);
    if (!input.ImportToken || Buffer.compare(input.ImportToken, this.options.importToken) !== 0) {
      throw awsError('InvalidImportTokenException', 'The import token is not valid for this key.');
    }
    const validTo = this.checkedExpiration(input);
    if (!this.symmetric() && (input.ImportType || input.KeyMaterialDescription)) {
      throw awsError('ValidationException', 'ImportType and KeyMaterialDescription apply only to symmetric encryption keys.');
    }
    if (input.KeyMaterialDescription !== undefined && !DESCRIPTION.test(input.KeyMaterialDescription)) {
      throw awsError('ValidationException', 'KeyMaterialDescription does not match the pattern.');
    }
    const bytes = this.unwrap(input.EncryptedKeyMaterial);
    const held = this.materials.find((m) => m.bytes.equals(bytes));
    const ofPrimary = (this.primaryMaterials?.some((p) => p.equals(bytes)) ?? false) || (this.primary?.materials.some((m) => m.bytes.equals(bytes)) ?? false);
    const type = input.ImportType ?? (this.materials.length === 0 ? 'NEW_KEY_MATERIAL' : 'EXISTING_KEY_MATERIAL');
    // KeyMaterialId (symmetric keys, not with NEW): the id KMS computes for these bytes must be that material of the key.
    if (input.KeyMaterialId !== undefined) {
      if (type === 'NEW_KEY_MATERIAL') throw awsError('ValidationException', 'You cannot specify a key material ID with ImportType NEW_KEY_MATERIAL.');
      if (held?.id !== input.KeyMaterialId) throw awsError('IncorrectKeyMaterialException', `The key material is not key material ${input.KeyMaterialId} of this key.`);
    }
    let material: Material;
    if (type === 'NEW_KEY_MATERIAL') {
      if (held || ofPrimary) throw awsError('IncorrectKeyMaterialException', 'KMS expected new key material, but this material is already associated with the key.');
      if (this.materials.length > 0 || this.primary) {
        if (!this.rotates()) throw awsError('UnsupportedOperationException', 'Only single-Region symmetric encryption keys take new key material.');
        if (this.materials.some((m) => m.state === 'PENDING_ROTATION')) throw awsError('KMSInvalidStateException', 'The key already has key material pending rotation.');
      }
      material = { id: this.materialIdOf(bytes), bytes, state: this.materials.length === 0 ? 'CURRENT' : 'PENDING_ROTATION' };
      this.materials.push(material);
    } else if (held) {
      material = held;
    } else if (ofPrimary && this.primary) {
      // The primary's material, in the primary's state (a pending one stays pending here until the primary rotates).
      const ofThePrimary = this.primary.materials.find((m) => m.bytes.equals(bytes))!;
      material = { id: ofThePrimary.id, bytes, state: ofThePrimary.state, rotated: ofThePrimary.rotated };
      this.materials.push(material);
    } else if (ofPrimary && this.materials.length === 0) {
      material = { id: this.materialIdOf(bytes), bytes, state: 'CURRENT' };
      this.materials.push(material);
    } else {
      throw awsError('IncorrectKeyMaterialException', 'The key material is not the key material previously imported into this key.');
    }
    Object.assign(material, { importState: 'IMPORTED', validTo, description: input.KeyMaterialDescription ?? material.description });
    if (this.keyState === 'PendingImport' && !this.anyLapsed()) this.keyState = 'Enabled';
    return { KeyId: arn, KeyMaterialId: material.id };
  }

  public rotateKeyOnDemand(input: RotateKeyOnDemandCommandInput) {
    this.lapse();
    const arn = this.arnOf(input.KeyId);
    if (this.keyState === 'Disabled') throw awsError('DisabledException', `${arn} is disabled.`);
    if (this.keyState !== 'Enabled') throw awsError('KMSInvalidStateException', `${arn} is ${this.keyState}.`);
    if (!this.rotates()) throw awsError('UnsupportedOperationException', `${arn} does not support on-demand rotation.`);
    const pending = this.materials.find((m) => m.state === 'PENDING_ROTATION');
    if (!pending) throw awsError('KMSInvalidStateException', `${arn} has no key material pending rotation.`);
    if (this.reportedState(pending) !== 'PENDING_ROTATION') {
      throw awsError('KMSInvalidStateException', `${arn}: key material ${pending.id} is not yet imported into every replica Region key.`);
    }
    if (this.rotations >= ROTATION_QUOTA) throw awsError('LimitExceededException', `${arn} has used its ${ROTATION_QUOTA} on-demand rotations.`);
    this.rotations++;
    for (const m of this.materials) if (m.state === 'CURRENT') m.state = 'NON_CURRENT';
    // RotationDate: when the rotation completed; one rotation after another is later.
    this.lastRotation = Math.max(Date.now(), this.lastRotation + 1000);
    Object.assign(pending, { state: 'CURRENT', rotated: new Date(this.lastRotation) });
    for (const replica of this.replicas) {
      for (const m of replica.materials) {
        if (m.bytes.equals(pending.bytes)) Object.assign(m, { state: 'CURRENT', rotated: pending.rotated });
        else if (m.state === 'CURRENT') m.state = 'NON_CURRENT';
      }
    }
    return { KeyId: arn };
  }

  public listKeyRotations(input: ListKeyRotationsCommandInput): { Rotations: RotationsListEntry[]; Truncated: boolean; NextMarker?: string } {
    this.lapse();
    const arn = this.arnOf(input.KeyId);
    if (!this.symmetric()) throw awsError('UnsupportedOperationException', `${arn} does not support key rotation.`);
    // ROTATIONS_ONLY (the default) leaves out the first material and any pending one.
    const listed = input.IncludeKeyMaterial === 'ALL_KEY_MATERIAL' ? this.materials : this.materials.filter((m) => m.rotated !== undefined);
    const ordered = this.newestFirst ? [...listed].reverse() : listed;
    const start = input.Marker === undefined ? 0 : Number(input.Marker);
    if (!Number.isInteger(start) || start < 0 || start > ordered.length) throw awsError('InvalidMarkerException', 'The marker is not valid.');
    const end = start + (input.Limit ?? 100);
    return {
      Rotations: ordered.slice(start, end).map((m) => ({
        KeyId: arn, KeyMaterialId: m.id, KeyMaterialState: this.reportedState(m) as RotationsListEntry['KeyMaterialState'], KeyMaterialDescription: m.description, ImportState: m.importState ?? 'IMPORTED',
        ExpirationModel: m.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: m.validTo,
        RotationDate: m.rotated, RotationType: m.rotated ? 'ON_DEMAND' : undefined,
      })),
      Truncated: end < ordered.length,
      NextMarker: end < ordered.length ? String(end) : undefined,
    };
  }

  public deleteImportedKeyMaterial(input: DeleteImportedKeyMaterialCommandInput) {
    this.lapse();
    const arn = this.arnOf(input.KeyId);
    const target = input.KeyMaterialId === undefined ? this.current() : this.materials.find((m) => m.id === input.KeyMaterialId);
    // On a PendingImport key, deleting material that is not imported has no effect (the key-state table).
    if (this.keyState === 'PendingImport' && (!target || target.importState === 'PENDING_IMPORT')) return { KeyId: arn, KeyMaterialId: target?.id };
    if (!target) throw awsError('NotFoundException', `${arn} has no key material ${input.KeyMaterialId}.`);
    if (target.state === 'PENDING_ROTATION') {
      // Material pending rotation is not yet the key's own: deleting it removes it (a primary's, on its replicas too).
      this.materials.splice(this.materials.indexOf(target), 1);
      for (const replica of this.replicas) {
        const copy = replica.materials.findIndex((m) => m.bytes.equals(target.bytes));
        if (copy >= 0) replica.materials.splice(copy, 1);
      }
    } else {
      target.importState = 'PENDING_IMPORT';
      if (this.keyState !== 'PendingDeletion') this.keyState = 'PendingImport';
    }
    return { KeyId: arn, KeyMaterialId: target.id };
  }

  public getKeyLastUsage(input: GetKeyLastUsageCommandInput): GetKeyLastUsageResponse {
    // KMS documents KeyLastUsage as an empty object for a key not used since tracking began.
    return {
      KeyId: this.arnOf(input.KeyId), KeyLastUsage: this.lastUsage ? { ...this.lastUsage, Operation: this.lastUsage.Operation as 'Decrypt' } : {},
      TrackingStartDate: this.trackingStart, KeyCreationDate: this.createdAt,
    };
  }

  // ---- Internals --------------------------------------------------------------------------------

  /** Material whose ValidTo passed is gone until re-imported, and the key is PendingImport. */
  private lapse(): void {
    const now = Date.now();
    for (const m of this.materials) {
      if (m.state !== 'PENDING_ROTATION' && m.importState !== 'PENDING_IMPORT' && m.validTo && m.validTo.getTime() <= now) {
        m.importState = 'PENDING_IMPORT';
        if (this.keyState === 'Enabled') this.keyState = 'PendingImport';
      }
    }
  }

  private anyLapsed(): boolean {
    return this.materials.some((m) => m.state !== 'PENDING_ROTATION' && m.importState === 'PENDING_IMPORT');
  }

  private symmetric(): boolean {
    return this.keySpec === 'SYMMETRIC_DEFAULT';
  }

  /** On-demand rotation: symmetric encryption keys, single-Region or multi-Region primaries; a replica rotates through its primary. */
  private rotates(): boolean {
    return this.symmetric() && !this.replica();
  }

  private replica(): boolean {
    return this.primaryMaterials !== undefined || this.primary !== undefined;
  }

  private arnOf(keyId: string | undefined): string {
    return keyId?.startsWith('arn:') ? keyId : this.options.keyArn;
  }

  private refusePendingDeletion(keyId: string | undefined): void {
    if (this.keyState === 'PendingDeletion') throw awsError('KMSInvalidStateException', `${this.arnOf(keyId)} is pending deletion.`);
  }

  /** The material's expiration, checked as KMS checks ExpirationModel and ValidTo. */
  private checkedExpiration(input: ImportKeyMaterialCommandInput): Date | undefined {
    const model = input.ExpirationModel ?? (input.ValidTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE');
    if (model === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
      if (input.ValidTo) throw awsError('ValidationException', 'ValidTo must be omitted with KEY_MATERIAL_DOES_NOT_EXPIRE.');
      return undefined;
    }
    if (!input.ValidTo) throw awsError('ValidationException', 'ValidTo is required with KEY_MATERIAL_EXPIRES.');
    const validTo = new Date(input.ValidTo);
    const ahead = validTo.getTime() - Date.now();
    if (ahead <= 0 || ahead > MAX_VALIDITY_MS) throw awsError('ValidationException', 'ValidTo must be in the future and at most 365 days ahead.');
    return validTo;
  }

  /** The plaintext material, unwrapped as KMS does with the wrapping algorithm of the parameters issued. */
  private unwrap(encrypted: Uint8Array | undefined): Buffer {
    const algorithm = this.wrappingAlgorithm ?? 'RSAES_OAEP_SHA_256';
    const { privateKey } = this.options.wrapping;
    const rsaOaep = (data: Uint8Array) => privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256' }, data);
    try {
      if (!encrypted) throw new Error('no EncryptedKeyMaterial');
      if (algorithm.startsWith('RSAES_OAEP')) return rsaOaep(encrypted);
      const rsaBytes = privateKey.asymmetricKeyDetails!.modulusLength! / 8;
      const decipher = createDecipheriv('id-aes256-wrap-pad', rsaOaep(encrypted.subarray(0, rsaBytes)), KWP_IV);
      return Buffer.concat([decipher.update(encrypted.subarray(rsaBytes)), decipher.final()]);
    } catch {
      throw awsError('InvalidCiphertextException', `The wrapped key material could not be unwrapped with ${algorithm}.`);
    }
  }
}

/**
 * The KMS API the handler tests see: the commands, routed by KeyId. Every KeyId names the default
 * `key`, unless `keyPerArn` is set: then each other key ARN gets a key of its own, made ready by it.
 */
export class KmsModel {
  public readonly key: KmsKeyModel;
  /** When set, each key ARN other than the default key's names a key of its own, which this prepares. */
  public keyPerArn?: (key: KmsKeyModel) => void;
  private readonly others = new Map<string, KmsKeyModel>();

  constructor(private readonly options: KmsKeyModelOptions) {
    this.key = new KmsKeyModel(options);
  }

  public reset(): void {
    this.key.reset();
    this.keyPerArn = undefined;
    this.others.clear();
  }

  /** A key of its own for `keyArn` (e.g. a multi-Region primary or replica in another Region), never holding material yet. */
  public addKey(keyArn: string): KmsKeyModel {
    const key = new KmsKeyModel({ ...this.options, keyArn });
    this.others.set(keyArn, key);
    return key;
  }

  /** The key `keyId` (a key ARN) names. */
  public keyFor(keyId: string | undefined): KmsKeyModel {
    if (!keyId || keyId === this.key.keyArn) return this.key;
    let key = this.others.get(keyId);
    if (!key && !this.keyPerArn) return this.key;
    if (!key) {
      key = new KmsKeyModel({ ...this.options, keyArn: keyId });
      this.keyPerArn!(key);
      this.others.set(keyId, key);
    }
    return key;
  }

  /** Answers every KMS command the handler sends from the model. */
  public install(kms: AwsClientStub<KMSClient>): void {
    kms.on(DescribeKeyCommand).callsFake((input: DescribeKeyCommandInput) => this.keyFor(input.KeyId).describeKey(input));
    kms.on(GetParametersForImportCommand).callsFake((input: GetParametersForImportCommandInput) => this.keyFor(input.KeyId).getParametersForImport(input));
    kms.on(ImportKeyMaterialCommand).callsFake((input: ImportKeyMaterialCommandInput) => this.keyFor(input.KeyId).importKeyMaterial(input));
    kms.on(RotateKeyOnDemandCommand).callsFake((input: RotateKeyOnDemandCommandInput) => this.keyFor(input.KeyId).rotateKeyOnDemand(input));
    kms.on(ListKeyRotationsCommand).callsFake((input: ListKeyRotationsCommandInput) => this.keyFor(input.KeyId).listKeyRotations(input));
    kms.on(GetKeyLastUsageCommand).callsFake((input: GetKeyLastUsageCommandInput) => this.keyFor(input.KeyId).getKeyLastUsage(input));
    kms.on(DeleteImportedKeyMaterialCommand).callsFake((input: DeleteImportedKeyMaterialCommandInput) => this.keyFor(input.KeyId).deleteImportedKeyMaterial(input));
  }
}
