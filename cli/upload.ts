/**
 * `upload`: check a wrapped blob against its parameter set (the set still valid, the length one the
 * set's algorithm and wrapping key can give), upload it to `uploads/<set>/wrapped-material.bin`,
 * then wait for the handler's `results/<set>.json` for this upload's version. Never prints the blob.
 */
import { existsSync, readFileSync } from 'node:fs';
import { OFFLINE_FOLDER, offlinePrefix, type UploadResult } from '../lib/shared/contract';
import { CliError, EXIT, report } from './output';
import { completeSets, hoursLeft, readSet } from './parameter-sets';
import { blobLengthProblem, WRAPPED_FILE } from './recipes';
import { getObject, putObject, regionOfArn, resolveKeyArn, s3Client } from './s3';

export interface UploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly file: string;
  readonly set?: string;
  readonly region?: string;
  readonly wait: number;
  readonly interval: number;
  readonly json: boolean;
}

/** What the handler writes at `results/<set>.json`: the contract's UploadResult. */
export type ImportResult = UploadResult;

export async function upload(options: UploadOptions): Promise<void> {
  if (!existsSync(options.file)) throw new CliError(`--file ${options.file} does not exist; give the blob the HSM wrote (${WRAPPED_FILE}).`, EXIT.USAGE);
  const keyArn = await resolveKeyArn(options.key, options.region);
  const s3 = s3Client(options.region ?? regionOfArn(keyArn)!);
  try {
    const name = options.set ?? (await completeSets(s3, options.bucket, keyArn))[0];
    if (!name) throw new CliError(`No complete parameter set for ${keyArn} in s3://${options.bucket}/; run parameters first.`, EXIT.REFUSED);
    const set = await readSet(s3, options.bucket, keyArn, name);
    if (hoursLeft(set.manifest) <= 0) {
      throw new CliError(`Parameter set ${name} lapsed at ${set.manifest.parametersValidTo}: KMS would refuse its token. Nothing was uploaded; `
        + 'run parameters for a fresh set and wrap again under its public key.', EXIT.REFUSED);
    }
    const blob = readFileSync(options.file);
    const problem = blobLengthProblem(set.manifest, blob.length);
    if (problem) {
      throw new CliError(`${options.file} cannot be a wrap for set ${name}: ${problem}. Nothing was uploaded; check that the HSM wrote binary (not base64 or hex) `
        + 'with the recipe parameters printed for this set.', EXIT.REFUSED);
    }
    const uploadKey = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.UPLOADS}${name}/${WRAPPED_FILE}`;
    const put = await putObject(s3, options.bucket, uploadKey, blob, 'application/octet-stream');
    const uploaded = { key: uploadKey, versionId: put.versionId, etag: put.etag };
    const resultKey = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.RESULTS}${name}.json`;
    if (options.wait <= 0) {
      report(options.json, { keyArn, bucket: options.bucket, set: name, upload: uploaded, result: resultKey, outcome: 'uploaded' },
        [`Uploaded ${blob.length} bytes to s3://${options.bucket}/${uploadKey} (version ${put.versionId ?? 'none'}); not waiting: the result will be at s3://${options.bucket}/${resultKey}.`]);
      return;
    }
    const result = await waitForResult(s3Get(s3, options.bucket), resultKey, uploaded, options.wait, options.interval);
    if (!result) {
      throw new CliError(`Uploaded to s3://${options.bucket}/${uploadKey} (version ${put.versionId ?? 'none'}), but no result for this upload appeared at `
        + `s3://${options.bucket}/${resultKey} within ${options.wait} s; run upload again with a longer --wait, or read that object later.`, EXIT.TIMEOUT);
    }
    report(options.json, { bucket: options.bucket, ...result }, [
      `${result.outcome === 'imported' ? 'Imported' : 'Refused'}: ${result.sentence}`,
      ...(result.keyMaterialId ? [`  KeyMaterialId ${result.keyMaterialId}`] : []),
      ...(result.keyState ? [`  key state ${result.keyState}`] : []),
      `  upload s3://${options.bucket}/${uploadKey} (version ${put.versionId ?? 'none'}), result s3://${options.bucket}/${resultKey}, at ${result.at}`,
    ]);
    if (result.outcome !== 'imported') process.exitCode = EXIT.REFUSED;
  } finally {
    s3.destroy();
  }
}

const s3Get = (s3: Parameters<typeof getObject>[0], bucket: string) => (key: string) => getObject(s3, bucket, key);

/** Polls the result object until it is for this upload (same version, or same ETag without versioning) or the wait ends. */
async function waitForResult(get: (key: string) => Promise<Buffer | undefined>, resultKey: string,
  uploaded: { versionId?: string; etag?: string }, waitSeconds: number, intervalSeconds: number): Promise<ImportResult | undefined> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const body = await get(resultKey);
    if (body) {
      try {
        const result = JSON.parse(body.toString('utf8')) as ImportResult;
        const same = uploaded.versionId ? result.upload?.versionId === uploaded.versionId : result.upload?.etag === uploaded.etag;
        if (same) return result;
      } catch {
        // A result being replaced, or not JSON: read it again at the next poll.
      }
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, Math.min(intervalSeconds * 1000, Math.max(0, deadline - Date.now()))));
  }
}
