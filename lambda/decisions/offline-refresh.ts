/**
 * Offline wrapping, the sweep's decisions for one key (pure: no API calls): publish a fresh
 * parameter set or not, what a refresh request is answered, and whether the expiry reminder is due.
 * The expiration always comes from the deploy's properties (the rule input), never from a request.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { ParameterManifest, RefreshAnswer, ResolvedImportProperties } from '../../lib/shared/contract';
import type { Expiration } from './expiration';

/** The freshest set that has not lapsed, as the sweep found it. */
export interface LiveSet {
  readonly name: string;
  readonly manifest: ParameterManifest;
}

export interface RefreshDecision {
  readonly publish: boolean;
  /** Why (a sentence fragment for the log and the answers). */
  readonly reason: string;
  /** The set to use when nothing is published and the freshest one is fresh enough. */
  readonly fresh?: LiveSet;
}

const hours = (ms: number) => (ms / 3_600_000).toFixed(1);

/** True when `set` was published for what the deploy asks now: the same key, key spec, wrapping and expiration. */
export function setMatches(set: LiveSet, props: ResolvedImportProperties, expiration: Expiration): boolean {
  const m = set.manifest;
  const validTo = expiration.validTo?.toISOString().replace('.000Z', 'Z');
  return m.keyArn === props.KeyArn && m.keySpec === props.KeySpec && m.wrappingAlgorithm === props.WrappingAlgorithm && m.wrappingKeySpec === props.WrappingKeySpec
    && m.expirationModel === (validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE') && m.validTo === validTo;
}

/**
 * For a key that needs its ceremony (`noSet` undefined): publish when there is no live set, when the
 * freshest was published for another expiration or wrapping than the deploy asks now, or when it has
 * less than `refreshBeforeSeconds` left. A request changes nothing here: it only makes the sweep run
 * now; a request met by a fresh set is answered with it (so a re-delivered request publishes once).
 */
export function refreshDecision(noSet: string | undefined, freshest: LiveSet | undefined, matches: boolean, refreshBeforeSeconds: number, now: Date): RefreshDecision {
  if (noSet) return { publish: false, reason: noSet };
  if (!freshest) return { publish: true, reason: 'the key awaits its ceremony and has no parameter set that has not lapsed' };
  if (!matches) return { publish: true, reason: `the freshest set ${freshest.name} was published for another expiration or wrapping than the deploy asks now` };
  const left = new Date(freshest.manifest.parametersValidTo).getTime() - now.getTime();
  if (left < refreshBeforeSeconds * 1000) {
    return { publish: true, reason: `the freshest set ${freshest.name} has ${hours(left)} hours left, fewer than ${hours(refreshBeforeSeconds * 1000)}` };
  }
  return { publish: false, reason: `the freshest set ${freshest.name} has ${hours(left)} hours left`, fresh: freshest };
}

/** The answer to one refresh request after the decision (and the publish, if any). */
export function answerFor(request: string, keyArn: string, decision: RefreshDecision, published: { set?: string; parametersValidTo?: string; reason: string } | undefined,
  now: Date): RefreshAnswer {
  const at = now.toISOString();
  if (published?.set) {
    return { keyArn, request, at, outcome: 'published', set: published.set, parametersValidTo: published.parametersValidTo,
      sentence: `Published the fresh parameter set ${published.set}, valid until ${published.parametersValidTo}: run parameters again to download it.` };
  }
  if (decision.fresh) {
    const m = decision.fresh.manifest;
    return { keyArn, request, at, outcome: 'fresh', set: decision.fresh.name, parametersValidTo: m.parametersValidTo,
      sentence: `No new set was needed: ${decision.reason} (valid until ${m.parametersValidTo}); download and use it.` };
  }
  const reason = published?.reason ?? decision.reason;
  return { keyArn, request, at, outcome: 'not-needed', sentence: `No parameter set was published: ${reason}.` };
}

/** A request the handler does not take (too large): answered without reading it. */
export function refusedAnswer(request: string, keyArn: string, size: number, maxBytes: number, now: Date): RefreshAnswer {
  return { keyArn, request, at: now.toISOString(), outcome: 'refused',
    sentence: `The request is ${size} bytes, more than the ${maxBytes} a request may have; it was not read. Ask for a fresh set with npx imported-kms-key parameters.` };
}

/** The reminder's facts when it is due: the key's material expires within `remindBeforeSeconds` (and has not yet). */
export interface DueReminder {
  readonly validTo: Date;
  readonly daysLeft: number;
}

export function reminderDue(key: KeyMetadata, remindBeforeSeconds: number, now: Date): DueReminder | undefined {
  if (key.ExpirationModel !== 'KEY_MATERIAL_EXPIRES' || !key.ValidTo) return undefined;
  if (key.KeyState !== 'Enabled' && key.KeyState !== 'Disabled') return undefined;
  const left = new Date(key.ValidTo).getTime() - now.getTime();
  if (left <= 0 || left > remindBeforeSeconds * 1000) return undefined;
  return { validTo: new Date(key.ValidTo), daysLeft: Math.floor(left / 86_400_000) };
}

/**
 * What the reminder tells the operator to do. The import's expiration always comes from the
 * deploy: when the deploy already asks for a later ValidTo than KMS holds, the key needs its
 * ceremony and the sweep keeps a set fresh for it, so the event names that set; when the deploy
 * still asks for the ValidTo that is expiring, no set can help (an import would bring the same
 * date back), so the event says to deploy a later one, which publishes the set.
 */
export function reminderAction(due: DueReminder, noSet: string | undefined, satisfied: boolean, set: string | undefined, where: string): string {
  const expires = `The key's material expires at ${due.validTo.toISOString()} (${due.daysLeft} days left).`;
  const ceremony = `wrap the material in the HSM under it and upload it (npx imported-kms-key parameters --bucket ${where}, then upload) before then`;
  if (!noSet) {
    return set ? `${expires} The deploy asks for a later expiration: the fresh parameter set ${set} is waiting; ${ceremony}.`
      : `${expires} The deploy asks for a later expiration: a parameter set is being published; ${ceremony}.`;
  }
  if (satisfied) {
    return `${expires} The deploy still asks for this expiration: set a later KeyMaterialExpiration.at(date) (at most 365 days ahead) and deploy, `
      + `which publishes a fresh parameter set; then ${ceremony}.`;
  }
  return `${expires} No parameter set is published: ${noSet}.`;
}
