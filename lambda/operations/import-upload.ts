/**
 * Offline wrapping, the upload path: S3 reports (through EventBridge) that an operator put a wrapped
 * blob at `<region>/<keyId>/uploads/<set name>/wrapped-material.bin`. The handler checks the blob
 * against the set it published itself (the manifest and token under parameters/, which operators
 * cannot write), imports it with that set's token and expiration (never anything the upload says),
 * confirms the key Enabled, and records the outcome in `results/<set name>.json`, a metric and an
 * EventBridge event. Refusals are results too, never exceptions: a refused upload is not retried.
 * A re-delivered event whose upload version already has a result does nothing.
 * The token, the blob and the material appear in no result, log line or event.
 */
import { createHash } from 'node:crypto';
import { ImportKeyMaterialCommand, ImportType } from '@aws-sdk/client-kms';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  OFFLINE_FOLDER, offlineMaterialDescription, offlinePrefix, PARAMETER_FILE, ParameterManifest, UPLOAD_FILE, UPLOAD_RESULT_EVENT, UploadResult, withDefaults,
} from '../../lib/shared/contract';
import { MAX_WRAPPED_UPLOAD_BYTES } from '../../lib/shared/limits';
import { describeKey } from '../aws/calls';
import { getObject, putObject } from '../aws/parameter-store';
import { confirmReady } from '../aws/readiness';
import { Sleep, sleep as realSleep } from '../aws/waits';
import { parseUploadKey } from '../decisions/upload-key';
import { wrappedLengthProblem } from '../decisions/wrapped-length';
import { ImportError } from '../errors/import-error';
import { toImportError } from '../errors/sentences';
import type { OfflineClients } from './publish-parameters';
import { writeMetric } from '../metrics';
import { confirmMaterial, makeCurrent, priorNewImport } from './offline-rotation';

export interface UploadClients extends OfflineClients {
  readonly events: EventBridgeClient;
}

/** The documented shape of S3's "Object Created" event on EventBridge (only the fields used). */
export interface S3ObjectCreatedEvent {
  readonly source: 'aws.s3';
  readonly 'detail-type': 'Object Created';
  readonly account: string;
  readonly region: string;
  readonly resources?: readonly string[];
  readonly detail: {
    readonly bucket: { readonly name: string };
    readonly object: { readonly key: string; readonly size?: number; readonly etag?: string; readonly 'version-id'?: string };
  };
}

export function isS3ObjectCreated(event: unknown): event is S3ObjectCreatedEvent {
  const e = event as Partial<S3ObjectCreatedEvent> | undefined;
  return e?.source === 'aws.s3' && e['detail-type'] === 'Object Created' && typeof e.detail?.object?.key === 'string';
}

/** What the invocation did, for the log line: a result written, or nothing and why. */
export interface UploadOutcome {
  readonly keyArn?: string;
  readonly outcome: 'imported' | 'refused' | 'ignored' | 'already-handled';
  readonly sentence: string;
  readonly resultKey?: string;
  /** False when PutEvents failed (the result object is still written). */
  readonly eventSent?: boolean;
}

export async function importUpload(clients: UploadClients, event: S3ObjectCreatedEvent, wait: Sleep = realSleep, now = () => new Date()): Promise<UploadOutcome> {
  const bucket = event.detail.bucket.name;
  const object = event.detail.object;
  // EventBridge sends the key as it is; decoded only if it arrived URL-encoded (decisions/upload-key.ts).
  const parsed = parseUploadKey(object.key);
  if (!parsed) return { outcome: 'ignored', sentence: `s3://${bucket}/${object.key} is not an upload of wrapped material (<region>/<keyId>/uploads/<set>/${UPLOAD_FILE}); nothing was done` };
  const { key, region, keyId, set, file } = parsed;
  const partition = /^arn:([^:]+):/.exec(event.resources?.[0] ?? '')?.[1] ?? 'aws';
  const keyArn = `arn:${partition}:kms:${region}:${event.account}:key/${keyId}`;
  const prefix = offlinePrefix(keyArn);
  const resultKey = `${prefix}${OFFLINE_FOLDER.RESULTS}${set}.json`;
  const upload = { key, versionId: object['version-id'], etag: object.etag };

  const previous = await getObject(clients.s3, bucket, resultKey, MAX_WRAPPED_UPLOAD_BYTES).catch((e: unknown) => { throw s3Error(e, 'read', bucket, resultKey); });
  // The same upload delivered again: its version (or, in an unversioned bucket, its ETag: the same bytes) already has a result.
  const handled = previous instanceof Buffer && sameUpload((JSON.parse(previous.toString()) as UploadResult).upload, upload);
  if (handled) {
    return { keyArn, outcome: 'already-handled', resultKey, sentence: `the upload ${upload.versionId ?? upload.etag} already has a result at s3://${bucket}/${resultKey}; nothing was imported again` };
  }

  const record = async (outcome: 'imported' | 'refused', sentence: string, keyMaterialId?: string, keyState?: string): Promise<UploadOutcome> => {
    const result: UploadResult = { keyArn, set, upload, outcome, sentence, keyMaterialId, keyState, at: now().toISOString() };
    await putObject(clients.s3, bucket, resultKey, JSON.stringify(result, null, 2), 'application/json').catch((e: unknown) => { throw s3Error(e, 'write', bucket, resultKey); });
    writeMetric(outcome === 'imported' ? 'OfflineImports' : 'OfflineImportRefusals', 1, 'KeyId', { KeyId: keyId, event: 'OfflineUpload', outcome, keyArn, set });
    // The result object is the record: a lost event does not undo the import, it is logged.
    const eventSent = await clients.events.send(new PutEventsCommand({ Entries: [{
      Source: UPLOAD_RESULT_EVENT.SOURCE, DetailType: UPLOAD_RESULT_EVENT.DETAIL_TYPE, Resources: [keyArn], Detail: JSON.stringify({ ...result, bucket, resultKey }),
    }] })).then((r) => !r.FailedEntryCount, () => false);
    return { keyArn, outcome, sentence, resultKey, eventSent };
  };

  if (file !== UPLOAD_FILE) return record('refused', `The upload must be named ${UPLOAD_FILE} (got ${file}); upload the wrapped material again as ${prefix}${OFFLINE_FOLDER.UPLOADS}${set}/${UPLOAD_FILE}.`);
  const setPrefix = `${prefix}${OFFLINE_FOLDER.PARAMETERS}${set}/`;
  const manifestBytes = await getObject(clients.s3, bucket, `${setPrefix}${PARAMETER_FILE.MANIFEST}`, MAX_WRAPPED_UPLOAD_BYTES).catch((e: unknown) => { throw s3Error(e, 'read', bucket, setPrefix); });
  if (!(manifestBytes instanceof Buffer)) {
    return record('refused', `No import-parameter set ${set} was published for key ${keyArn}: the material was wrapped for another key's set, or the set name is wrong. `
      + `Upload to uploads/<set>/ under the prefix of the key whose set you wrapped under (its parameters/<set>/manifest.json names the key).`);
  }
  const manifest = JSON.parse(manifestBytes.toString()) as ParameterManifest;
  if (manifest.keyArn !== keyArn) {
    return record('refused', `Parameter set ${set} belongs to key ${manifest.keyArn}, not ${keyArn}: the material was wrapped for another key. Upload it under that key's prefix.`);
  }
  // Offline rotation: a re-delivered upload, or one after a crash between import and rotation, converges without a second import.
  const rotation = manifest.importType === 'NEW_KEY_MATERIAL' && manifest.materialGeneration ? await priorNewImport(clients, keyArn, set, manifest) : undefined;
  if (rotation?.kind === 'refuse') return record('refused', rotation.sentence);
  if (rotation?.kind === 'done') return record('imported', `Set ${set}'s material is already key ${keyArn}'s generation ${manifest.materialGeneration}; nothing was imported again.`, rotation.keyMaterialId);
  if (rotation?.kind === 'rotate') {
    try {
      const key = await makeCurrent(clients, keyArn, manifest.keySpec, rotation.entry, wait);
      return await record('imported', `Set ${set}'s material was imported before but not made current; it is now key ${keyArn}'s current material `
        + `(generation ${manifest.materialGeneration}), without a new import; the key is ${key.KeyState}.`, key.CurrentKeyMaterialId, key.KeyState);
    } catch (error) {
      return await record('refused', (error as Error).message);
    }
  }
  if (now().getTime() >= new Date(manifest.parametersValidTo).getTime()) {
    return record('refused', `Parameter set ${set} lapsed at ${manifest.parametersValidTo}: KMS no longer accepts its token. `
      + 'Request a fresh set (npx imported-kms-key parameters), wrap the material again under its public key, and upload it to the new set\'s folder.');
  }
  const blob = await getObject(clients.s3, bucket, key, MAX_WRAPPED_UPLOAD_BYTES, upload.versionId).catch((e: unknown) => { throw s3Error(e, 'read', bucket, key); });
  if (blob === undefined) return { keyArn, outcome: 'ignored', sentence: `the upload s3://${bucket}/${key} is gone; nothing was done` };
  if (blob === 'too-large') return record('refused', `The upload is larger than ${MAX_WRAPPED_UPLOAD_BYTES} bytes, more than any wrapped key material; upload the HSM's wrapped output for set ${set}, nothing else.`);
  try {
    const lengthProblem = wrappedLengthProblem(blob.length, manifest.keySpec, manifest.wrappingAlgorithm, manifest.wrappingKeySpec);
    if (lengthProblem) return await record('refused', `Nothing was imported: ${lengthProblem}. Check that the HSM wrapped with the set's algorithm and public key and that the file was uploaded whole, then upload again.`);
    const token = await getObject(clients.s3, bucket, `${setPrefix}${PARAMETER_FILE.IMPORT_TOKEN}`, MAX_WRAPPED_UPLOAD_BYTES).catch((e: unknown) => { throw s3Error(e, 'read', bucket, setPrefix); });
    if (!(token instanceof Buffer) || createHash('sha256').update(token).digest('hex') !== manifest.sha256[PARAMETER_FILE.IMPORT_TOKEN]) {
      return await record('refused', `The import token of set ${set} is missing or differs from its manifest; nothing was imported. Request a fresh set and wrap again.`);
    }
    const validTo = manifest.validTo ? new Date(manifest.validTo) : undefined;
    try {
      const response = await clients.kms.send(new ImportKeyMaterialCommand({
        KeyId: keyArn, ImportToken: token, EncryptedKeyMaterial: blob,
        ExpirationModel: manifest.expirationModel, ValidTo: validTo,
        ImportType: manifest.keySpec === 'SYMMETRIC_DEFAULT' ? manifest.importType as ImportType : undefined,
        // Offline rotation (offline-rotation.ts): one named material re-imported; a new one described by its generation and set.
        KeyMaterialId: manifest.keyMaterialId,
        KeyMaterialDescription: manifest.materialGeneration && manifest.keySpec === 'SYMMETRIC_DEFAULT' && manifest.importType !== 'EXISTING_KEY_MATERIAL'
          ? offlineMaterialDescription(manifest.materialGeneration, set) : undefined,
      }));
      const expiring = validTo ? `, expiring at ${manifest.validTo}` : ', never expiring';
      if (manifest.importType === 'NEW_KEY_MATERIAL') {
        const key = await makeCurrent(clients, keyArn, manifest.keySpec, { KeyMaterialId: response.KeyMaterialId, ValidTo: validTo }, wait);
        return await record('imported', `Imported the uploaded new material into key ${keyArn} with set ${set}${expiring}, and rotated it in: it is the key's current material `
          + `(generation ${manifest.materialGeneration ?? 'next'}); earlier materials still decrypt. The key is ${key.KeyState}.`, key.CurrentKeyMaterialId, key.KeyState);
      }
      if (manifest.keyMaterialId) {
        const keyState = await confirmMaterial(clients, keyArn, manifest.keyMaterialId, validTo, wait);
        return await record('imported', `Re-imported material ${manifest.keyMaterialId} (generation ${manifest.materialGeneration}) of key ${keyArn} with set ${set}${expiring}; `
          + `the key is ${keyState}${keyState === 'Enabled' ? '' : ' (another material waits for its own set)'}.`, manifest.keyMaterialId, keyState);
      }
      const props = withDefaults({ KeyArn: keyArn, KeySpec: manifest.keySpec, ParameterBucket: bucket });
      const key = await confirmReady(clients, props, { validTo }, wait);
      const id = response.KeyMaterialId ?? key.CurrentKeyMaterialId;
      return await record('imported', `Imported the uploaded material into key ${keyArn} with set ${set}`
        + `${expiring}; the key is ${key.KeyState}.`, id, key.KeyState);
    } catch (error) {
      const sentence = toImportError(error, manifest.importType === 'NEW_KEY_MATERIAL' ? 'import-upload-new' : 'import-upload', keyArn, undefined).message;
      const state = await describeKey(clients, keyArn).then((k) => k.KeyState, () => undefined);
      return await record('refused', sentence, undefined, state);
    }
  } finally {
    blob.fill(0);
  }
}

function sameUpload(recorded: UploadResult['upload'] | undefined, upload: UploadResult['upload']): boolean {
  if (upload.versionId) return recorded?.versionId === upload.versionId;
  return upload.etag !== undefined && recorded?.versionId === undefined && recorded?.etag === upload.etag;
}

function s3Error(error: unknown, verb: 'read' | 'write', bucket: string, key: string): ImportError {
  return new ImportError(`The import handler could not ${verb} s3://${bucket}/${key} (${(error as Error).name}). `
    + 'Check that the bucket exists and the handler may read and write the key\'s prefix, then upload again.', (error as Error).name);
}
