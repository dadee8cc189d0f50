/**
 * A key's import-parameter sets in the bucket: the freshest complete one (its manifest written, so
 * every file is there), each file checked against the manifest's SHA-256 before anyone wraps under it.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, type ParameterManifest } from '../lib/shared/contract';
import { CliError, EXIT } from './output';
import { getObject, listKeys } from './s3';

export interface ParameterSet {
  /** The set's folder name, `<ParametersValidTo>-<digest16>`. */
  readonly name: string;
  /** Its full prefix in the bucket. */
  readonly prefix: string;
  readonly manifest: ParameterManifest;
  /** The verified files, by name (the manifest included). */
  readonly files: Record<string, Buffer>;
}

/** The names of the key's complete sets (manifest present), freshest first. */
export async function completeSets(s3: S3Client, bucket: string, keyArn: string): Promise<string[]> {
  const root = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}`;
  const keys = await listKeys(s3, bucket, root);
  return keys.filter((k) => k.endsWith(`/${PARAMETER_FILE.MANIFEST}`))
    .map((k) => k.slice(root.length, -(PARAMETER_FILE.MANIFEST.length + 1)))
    .filter((name) => !name.includes('/'))
    .sort().reverse(); // named by ParametersValidTo (ISO-8601): the latest sorts last
}

/** Downloads a set and checks each file against its manifest; refuses (exit 1) on any mismatch. */
export async function readSet(s3: S3Client, bucket: string, keyArn: string, name: string): Promise<ParameterSet> {
  const prefix = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.PARAMETERS}${name}/`;
  const manifestBytes = await getObject(s3, bucket, `${prefix}${PARAMETER_FILE.MANIFEST}`);
  if (!manifestBytes) throw new CliError(`No parameter set ${name} for ${keyArn} in s3://${bucket}/ (no ${PARAMETER_FILE.MANIFEST}); run parameters without --set to take the freshest one.`, EXIT.REFUSED);
  let manifest: ParameterManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as ParameterManifest;
  } catch {
    throw new CliError(`The manifest of set ${name} is not JSON; do not use this set: ask for a fresh one (parameters --min-hours 24).`, EXIT.REFUSED);
  }
  if (manifest.keyArn !== keyArn) {
    throw new CliError(`The manifest of set ${name} is for ${String(manifest.keyArn)}, not ${keyArn}; do not wrap under it.`, EXIT.REFUSED);
  }
  const files: Record<string, Buffer> = { [PARAMETER_FILE.MANIFEST]: manifestBytes };
  for (const file of [PARAMETER_FILE.PUBLIC_KEY_DER, PARAMETER_FILE.PUBLIC_KEY_PEM, PARAMETER_FILE.IMPORT_TOKEN]) {
    const body = await getObject(s3, bucket, `${prefix}${file}`);
    if (!body) throw new CliError(`Set ${name} lists ${file} but it is missing from s3://${bucket}/${prefix}; do not use this set: ask for a fresh one.`, EXIT.REFUSED);
    const digest = createHash('sha256').update(body).digest('hex');
    if (digest !== manifest.sha256?.[file]) {
      throw new CliError(`${file} of set ${name} does not match the SHA-256 in its manifest (got ${digest.slice(0, 16)}..., expected ${String(manifest.sha256?.[file]).slice(0, 16)}...); `
        + 'do not wrap under it: the set was altered or damaged. Ask for a fresh one.', EXIT.REFUSED);
    }
    files[file] = body;
  }
  return { name, prefix, manifest, files };
}

/** Hours until the set's ParametersValidTo (negative once lapsed). */
export function hoursLeft(manifest: ParameterManifest, now = new Date()): number {
  return (new Date(manifest.parametersValidTo).getTime() - now.getTime()) / 3_600_000;
}
