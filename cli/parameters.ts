/**
 * `parameters`: download the freshest complete import-parameter set of a key, verified against its
 * manifest, into --out; ask for a fresh set when fewer than --min-hours remain; print the wrap recipe.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { OFFLINE_ANSWER_FOLDER, OFFLINE_FOLDER, offlinePrefix, PARAMETER_FILE, type RefreshAnswer } from '../lib/shared/contract';
import { CliError, EXIT, report } from './output';
import { completeSets, hoursLeft, readSet } from './parameter-sets';
import { recipeFor, recipeLines } from './recipes';
import { getObject, putObject, regionOfArn, resolveKeyArn, s3Client } from './s3';

export interface ParametersOptions {
  readonly bucket: string;
  readonly key: string;
  readonly region?: string;
  readonly out: string;
  readonly minHours: number;
  readonly json: boolean;
  /** Seconds to wait for the handler's answer to a refresh request this run writes (0: do not wait). */
  readonly wait?: number;
  /** Seconds between polls of the answer. */
  readonly interval?: number;
  /** A set by name (one material of a rotated key); the freshest complete one when absent. */
  readonly set?: string;
}

/** Writes a request for a fresh set (`requests/<ISO time>.json`); returns its S3 key. */
export async function requestRefresh(s3: S3Client, bucket: string, keyArn: string, reason: string): Promise<string> {
  const key = `${offlinePrefix(keyArn)}${OFFLINE_FOLDER.REQUESTS}${new Date().toISOString()}.json`;
  await putObject(s3, bucket, key, JSON.stringify({ reason }), 'application/json');
  return key;
}

/** Polls the handler's answer to `request` (`results/answers/<request name>`) until it is there or the wait ends. */
export async function awaitAnswer(s3: S3Client, bucket: string, keyArn: string, request: string, waitSeconds: number, intervalSeconds: number): Promise<RefreshAnswer | undefined> {
  if (waitSeconds <= 0) return undefined;
  const answerKey = `${offlinePrefix(keyArn)}${OFFLINE_ANSWER_FOLDER.ANSWERS}${request.slice(request.lastIndexOf('/') + 1)}`;
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const body = await getObject(s3, bucket, answerKey);
    if (body) {
      try {
        return JSON.parse(body.toString('utf8')) as RefreshAnswer;
      } catch {
        // being written: read it again at the next poll
      }
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, Math.min(intervalSeconds * 1000, Math.max(0, deadline - Date.now()))));
  }
}

export async function parameters(options: ParametersOptions): Promise<void> {
  const keyArn = await resolveKeyArn(options.key, options.region);
  const region = options.region ?? regionOfArn(keyArn)!;
  const s3 = s3Client(region);
  const [wait, interval] = [options.wait ?? 0, options.interval ?? 2];
  const answered = (answer: RefreshAnswer | undefined) => (answer ? ` The handler answered: ${answer.sentence}` : wait > 0 ? ` No answer within ${wait} s.` : '');
  try {
    const names = await completeSets(s3, options.bucket, keyArn);
    let set = (options.set || names.length > 0) ? await readSet(s3, options.bucket, keyArn, options.set ?? names[0]) : undefined;
    let refresh: string | undefined;
    let answer: RefreshAnswer | undefined;
    let why = '';
    if (!set) {
      why = 'no complete set';
      refresh = await requestRefresh(s3, options.bucket, keyArn, 'no complete parameter set');
      answer = await awaitAnswer(s3, options.bucket, keyArn, refresh, wait, interval);
      if (!answer?.set) {
        throw new CliError(`No complete parameter set for ${keyArn} in s3://${options.bucket}/ yet (a deploy publishes one); requested one at s3://${options.bucket}/${refresh}. `
          + `Run parameters again once it is there.${answered(answer)}`, EXIT.REFUSED);
      }
      set = await readSet(s3, options.bucket, keyArn, answer.set);
    } else if (hoursLeft(set.manifest) <= 0) {
      why = `${set.name} lapsed`;
      refresh = await requestRefresh(s3, options.bucket, keyArn, `the freshest set ${set.name} lapsed at ${set.manifest.parametersValidTo}`);
      answer = await awaitAnswer(s3, options.bucket, keyArn, refresh, wait, interval);
      if (!answer?.set) {
        throw new CliError(`The freshest parameter set of ${keyArn} (${set.name}) lapsed at ${set.manifest.parametersValidTo}: KMS would refuse a blob wrapped under it. `
          + `Requested a fresh one at s3://${options.bucket}/${refresh}; run parameters again once it is there.${answered(answer)}`, EXIT.REFUSED);
      }
      set = await readSet(s3, options.bucket, keyArn, answer.set);
    } else if (hoursLeft(set.manifest) < options.minHours) {
      why = `fewer than ${options.minHours} hours left`;
      refresh = await requestRefresh(s3, options.bucket, keyArn, `${hoursLeft(set.manifest).toFixed(1)} hours left on ${set.name}, fewer than the ${options.minHours} asked`);
      answer = await awaitAnswer(s3, options.bucket, keyArn, refresh, wait, interval);
      if (answer?.outcome === 'published' && answer.set) set = await readSet(s3, options.bucket, keyArn, answer.set);
    }
    const left = hoursLeft(set.manifest);

    const out = resolve(options.out);
    mkdirSync(out, { recursive: true });
    const written: Record<string, string> = {};
    for (const [name, body] of Object.entries(set.files)) {
      const path = join(out, name);
      writeFileSync(path, body, { mode: 0o600 });
      chmodSync(path, 0o600);
      written[name] = path;
    }
    const recipe = recipeFor(set.manifest, out);
    const m = set.manifest;
    const expiration = m.expirationModel === 'KEY_MATERIAL_EXPIRES' ? `expires ${m.validTo}` : 'never expires';
    report(options.json, {
      keyArn, bucket: options.bucket, set: set.name, parametersValidTo: m.parametersValidTo, hoursLeft: Number(left.toFixed(2)),
      keySpec: m.keySpec, wrappingAlgorithm: m.wrappingAlgorithm, wrappingKeySpec: m.wrappingKeySpec, materialFormat: m.materialFormat,
      expirationModel: m.expirationModel, validTo: m.validTo, importType: m.importType,
      materialGeneration: m.materialGeneration, keyMaterialId: m.keyMaterialId, keyMaterialDescription: m.keyMaterialDescription,
      files: written, refreshRequested: refresh, refreshAnswer: answer, recipe,
    }, [
      `Parameter set ${set.name} for ${keyArn}`,
      `  verified against its manifest (SHA-256 of each file) and written to ${out}: ${Object.keys(written).sort().join(', ')}`,
      `  valid until ${m.parametersValidTo} (${left.toFixed(1)} hours left): upload the wrapped blob before then`,
      `  ${m.keySpec}, wrapped with ${m.wrappingAlgorithm} under ${m.wrappingKeySpec}; the material: ${m.materialFormat}; it ${expiration} once imported`,
      ...(m.importType === 'NEW_KEY_MATERIAL' ? [`  a rotation: generate NEW material in the HSM for generation ${m.materialGeneration ?? 'next'}, never one the key already holds`] : []),
      ...(m.keyMaterialId ? [`  a re-import of one material: wrap generation ${m.materialGeneration}'s material (KeyMaterialId ${m.keyMaterialId}${m.keyMaterialDescription ? `, "${m.keyMaterialDescription}"` : ''}), no other`] : []),
      ...(refresh ? [`  ${why}: requested a fresh set at s3://${options.bucket}/${refresh}${answered(answer)}`] : []),
      `  the HSM needs only ${PARAMETER_FILE.PUBLIC_KEY_PEM} (or .der); the handler imports with its own copy of ${PARAMETER_FILE.IMPORT_TOKEN}`,
      '',
      ...recipeLines(recipe),
    ]);
  } finally {
    s3.destroy();
  }
}
