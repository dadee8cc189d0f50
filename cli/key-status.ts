/**
 * `status --stack NAME | --all | --key` (KMS read access): every imported key of a stack, or every
 * Origin EXTERNAL key of the account in the Region, with what KMS says (state, expiration, ValidTo
 * and days left, current KeyMaterialId, aliases), its mode (from the tags the construct puts on the
 * key) and, for offline wrapping, what its bucket says (offlineSummary). Exit 1 when a key needs
 * attention (see attentionOf), so that a cron job can alert on it.
 */
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { KEY_TAG, MATERIAL_SOURCE } from '../lib/shared/contract';
import { aliasesByKey, accountKeyIds, describeKey, keyTags, kmsClient, stackKeyIds } from './kms';
import { CliError, EXIT, report } from './output';
import { regionOfArn, s3Client } from './s3';
import { freshestPhrase, offlineSummary, OfflineSummary, resultPhrase } from './status';

export interface KeyStatusOptions {
  readonly stack?: string;
  readonly all?: boolean;
  readonly key?: string;
  /** The parameter bucket of offline keys whose tags do not name one. */
  readonly bucket?: string;
  readonly region?: string;
  readonly warnDays: number;
  readonly json: boolean;
}

export type Mode = 'secrets-manager' | 'offline-wrapping' | 'unknown';

/** One key's line of `status`. */
export interface KeyStatus {
  readonly keyId: string;
  readonly keyArn: string;
  readonly aliases: string[];
  readonly keyState?: string;
  readonly keySpec?: string;
  readonly expirationModel?: string;
  readonly validTo?: string;
  /** Days until ValidTo, one decimal (negative once passed). */
  readonly daysLeft?: number;
  readonly currentKeyMaterialId?: string;
  readonly mode: Mode;
  readonly bucket?: string;
  readonly offline?: OfflineSummary;
  /** Why the key needs attention; empty when it does not. */
  readonly attention: string[];
}

const DAY = 86_400_000;

/** Why a key needs attention: no usable material, ValidTo within warnDays, deletion scheduled, an offline import refused or a set lapsed while waiting. */
export function attentionOf(key: Omit<KeyStatus, 'attention'>, warnDays: number): string[] {
  const reasons: string[] = [];
  if (key.keyState === 'PendingImport') {
    reasons.push(key.mode === 'offline-wrapping' ? 'PendingImport: no material yet, or it expired or was deleted (run the ceremony: parameters, wrap, upload)'
      : 'PendingImport: no material yet, or it expired or was deleted (deploy again to re-import it)');
  }
  if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') reasons.push(`${key.keyState}: the key is scheduled for deletion`);
  if (key.daysLeft !== undefined && key.keyState !== 'PendingImport' && key.daysLeft < warnDays) {
    reasons.push(`its material expires at ${key.validTo}, in ${key.daysLeft.toFixed(1)} days (fewer than --warn-days ${warnDays})`);
  }
  const last = key.offline?.lastResult;
  if (last && last.outcome !== 'imported') reasons.push(`the last offline import was refused: ${last.sentence}`);
  if (key.keyState === 'PendingImport' && key.mode === 'offline-wrapping' && (key.offline?.hoursLeft ?? 0) <= 0) {
    reasons.push('no valid parameter set to wrap under (parameters requests a fresh one)');
  }
  return reasons;
}

function modeOf(tags: Record<string, string>, importedByStack: boolean): Mode {
  const source = tags[KEY_TAG.MATERIAL_SOURCE];
  if (source === MATERIAL_SOURCE.OFFLINE_WRAPPING) return 'offline-wrapping';
  if (source === MATERIAL_SOURCE.SECRETS_MANAGER) return 'secrets-manager';
  // A stack's import resource without the tag: an adopted key (ImportedKeyMaterial), which only takes a secret.
  return importedByStack ? 'secrets-manager' : 'unknown';
}

async function statusOf(kms: KMSClient, m: KeyMetadata, aliases: string[], importedByStack: boolean, options: KeyStatusOptions): Promise<KeyStatus> {
  const tags = await keyTags(kms, m.KeyId!);
  const mode = modeOf(tags, importedByStack);
  const bucket = mode === 'offline-wrapping' ? tags[KEY_TAG.PARAMETER_BUCKET] ?? options.bucket : undefined;
  let offline: OfflineSummary | undefined;
  if (bucket) {
    const s3 = s3Client(regionOfArn(m.Arn!) ?? options.region!);
    try {
      offline = await offlineSummary(s3, bucket, m.Arn!);
    } finally {
      s3.destroy();
    }
  }
  const validTo = m.ValidTo ? m.ValidTo.toISOString().replace('.000Z', 'Z') : undefined;
  const key = {
    keyId: m.KeyId!, keyArn: m.Arn!, aliases, keyState: m.KeyState, keySpec: m.KeySpec, expirationModel: m.ExpirationModel, validTo,
    daysLeft: m.ValidTo ? Number(((m.ValidTo.getTime() - Date.now()) / DAY).toFixed(1)) : undefined,
    currentKeyMaterialId: m.CurrentKeyMaterialId, mode, bucket, offline,
  };
  return { ...key, attention: attentionOf(key, options.warnDays) };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

function lines(keys: KeyStatus[], scope: string, warnDays: number): string[] {
  const attention = keys.filter((k) => k.attention.length > 0).length;
  const rows = [['KEY', 'ALIASES', 'STATE', 'MODE', 'EXPIRES', 'DAYS LEFT', 'KEY MATERIAL']];
  const details: string[] = [];
  for (const k of keys) {
    rows.push([k.keyId, k.aliases.join(',') || '-', k.keyState ?? '-', k.mode,
      k.expirationModel === 'KEY_MATERIAL_EXPIRES' ? k.validTo ?? '-' : k.expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE' ? 'never' : '-',
      k.daysLeft === undefined ? '-' : k.daysLeft.toFixed(1), k.currentKeyMaterialId ?? '-']);
    const notes = [
      ...(k.mode === 'offline-wrapping' ? [k.offline ? `s3://${k.bucket}: ${freshestPhrase(k.offline)}; ${resultPhrase(k.offline.lastResult)}`
        : 'offline wrapping, but no bucket known: pass --bucket'] : []),
      ...k.attention.map((a) => `needs attention: ${a}`),
    ];
    if (notes.length > 0) details.push(`${k.keyArn}`, ...notes.map((n) => `  ${n}`));
  }
  return [
    `${keys.length} imported key(s) ${scope}; ${attention === 0 ? 'none needs' : `${attention} need`} attention (--warn-days ${warnDays}).`,
    ...(keys.length > 0 ? ['', ...table(rows)] : []),
    ...(details.length > 0 ? ['', ...details] : []),
  ];
}

export async function keyStatus(options: KeyStatusOptions): Promise<void> {
  const chosen = [options.stack !== undefined, options.all === true, options.key !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new CliError('status needs exactly one of --stack <name>, --all or --key <arn> (with --bucket and --key: the S3-only view of one key).', EXIT.USAGE);
  const region = options.region ?? (options.key ? regionOfArn(options.key) : undefined);
  const kms = kmsClient(region);
  try {
    let ids: string[];
    let imported = new Set<string>();
    if (options.stack) ({ keyIds: ids, imported } = await stackKeyIds(region, options.stack));
    else if (options.all) ids = await accountKeyIds(kms);
    else ids = [options.key!];
    const aliases = await aliasesByKey(kms);
    const keys: KeyStatus[] = [];
    for (const id of ids) {
      const m = await describeKey(kms, id);
      // Only keys with imported material: a stack's other keys and the account's KMS-generated keys are left out.
      if (m.Origin !== 'EXTERNAL') continue;
      keys.push(await statusOf(kms, m, aliases.get(m.KeyId!) ?? [], imported.has(m.KeyId!), options));
    }
    keys.sort((a, b) => a.keyArn.localeCompare(b.keyArn));
    const scope = options.stack ? `in stack ${options.stack}` : options.all ? `in ${keys[0] ? regionOfArn(keys[0].keyArn) : region ?? 'the Region'}` : `(--key ${options.key})`;
    report(options.json, { scope: options.stack ? { stack: options.stack } : options.all ? { all: true } : { key: options.key }, warnDays: options.warnDays, keys },
      lines(keys, scope, options.warnDays));
    if (keys.some((k) => k.attention.length > 0)) process.exitCode = EXIT.REFUSED;
  } finally {
    kms.destroy();
  }
}
