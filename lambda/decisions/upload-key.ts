/**
 * Offline wrapping: which key, set and file an S3 object key of an upload names,
 * `<region>/<keyId>/uploads/<set>/<file>`.
 *
 * The encoding of the key. S3 *notifications* (SNS, SQS, Lambda) URL-encode the object key: the S3
 * user guide's "Event message structure" (docs.aws.amazon.com/AmazonS3/latest/userguide/
 * notification-content-structure.html) says the object key name value is URL encoded, so
 * "red flower.jpg" arrives as "red+flower.jpg" and a ':' as "%3A" (aws/aws-sdk-js#837). S3's events
 * on *EventBridge* are another format ("EventBridge event message structure", .../userguide/
 * ev-events.html): that page documents `detail.object.key` with no word of encoding, and published
 * delivered events carry the key as it is (for example "raw/health-check/2023-08-08T14:03:40.532432.zip",
 * with its ':' unencoded). Set
 * names hold ':' (ISO times), so the handler takes the key as EventBridge sends it, as it is. It
 * falls back to URL-decoding only when the key as it is does not name an upload and holds a %XX
 * escape. That fallback is safe: a key that names an upload never holds '%', ' ' or '+' (region,
 * key id, set name and file name use letters, digits, '-', ':', '.' and '_' only), so no key can be
 * read both ways.
 */
import { OFFLINE_FOLDER } from '../../lib/shared/contract';

/** The parts of an upload's object key. */
export interface UploadKey {
  /** The object key as S3 stores it (decoded if the event held it encoded). */
  readonly key: string;
  readonly region: string;
  readonly keyId: string;
  readonly set: string;
  readonly file: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A key id exactly (a single-Region UUID or a multi-Region mrk- id), never a prefix of one. */
const UPLOAD_KEY = new RegExp(`^([a-z]{2}(?:-[a-z]+)+-\\d)/(${UUID}|mrk-[0-9a-f]{32})/${OFFLINE_FOLDER.UPLOADS}([A-Za-z0-9:._-]+)/([A-Za-z0-9:._-]+)$`);

/** The upload an event's object key names, or undefined when it names none. */
export function parseUploadKey(eventKey: string): UploadKey | undefined {
  const plain = parse(eventKey);
  if (plain || !/%[0-9A-Fa-f]{2}/.test(eventKey)) return plain;
  try {
    return parse(decodeURIComponent(eventKey));
  } catch {
    return undefined; // a malformed escape: not a key the handler wrote the set for
  }
}

function parse(key: string): UploadKey | undefined {
  const match = UPLOAD_KEY.exec(key);
  if (!match) return undefined;
  const [, region, keyId, set, file] = match;
  return { key, region, keyId, set, file };
}
