import { Duration, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * How the key material is encoded in a SecretString.
 */
export enum KeyMaterialEncoding {
  /**
   * Detect it: PEM when the text holds a `-----BEGIN` line, hex when it is only hex digits,
   * base64 otherwise.
   */
  AUTO = 'AUTO',
  /** Standard base64 (RFC 4648), padding optional. */
  BASE64 = 'BASE64',
  /** Hexadecimal, two digits per byte. */
  HEX = 'HEX',
  /** A PEM private key: PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`). */
  PEM = 'PEM',
}

/**
 * A lock on the material's secret: only the import handler (and the break-glass principals named
 * here) may read it, whatever allow policies the account has. See README, "Material lockdown".
 */
export interface MaterialLockdown {
  /**
   * ARNs of principals that may still read the material, e.g. a break-glass role. Matched against
   * `aws:PrincipalArn` with `ArnNotLike`, so `*` wildcards work (for example a role path).
   *
   * @default - no one but the import handler
   */
  readonly breakGlassPrincipalArns?: string[];

  /**
   * ARNs of principals that may change or remove the secret's resource policy, and so the lock,
   * besides the stack's CloudFormation execution role and the account's root user (both always may,
   * so the stack can be updated and the lock can never become unremovable).
   *
   * @default - no one else
   */
  readonly policyAdministratorArns?: string[];
}

/**
 * Options for reading key material from a secret.
 */
export interface SecretKeyMaterialOptions {
  /**
   * Read the material from this field of a JSON SecretString.
   *
   * @default - the whole SecretString (or the SecretBinary) is the material
   */
  readonly jsonField?: string;

  /**
   * The secret version stage to read.
   *
   * @default 'AWSCURRENT'
   */
  readonly versionStage?: string;

  /**
   * How the material is encoded in a SecretString (or in the JSON field). A SecretBinary is read as
   * raw bytes, or as PEM text when it holds a PEM block.
   *
   * @default KeyMaterialEncoding.AUTO
   */
  readonly encoding?: KeyMaterialEncoding;

  /**
   * Lock the secret so that only the import handler (and named break-glass principals) can read
   * the plaintext material: an explicit Deny in the secret's resource policy, which account-wide
   * allow policies cannot override. Applied to a secret this app owns; for an imported secret the
   * construct reports the policy to apply by hand.
   *
   * @default - no lock: whoever the account lets call GetSecretValue on the secret can read the material
   */
  readonly lockdown?: MaterialLockdown;
}

/**
 * Options for offline wrapping: the material is wrapped in your HSM and uploaded, never read by AWS
 * in plaintext. See README, "Offline wrapping (HSM)".
 */
export interface OfflineWrappingOptions {
  /**
   * Who runs the wrapping ceremony: they may read the key's import-parameter sets and results and
   * upload wrapped material under the key's prefix of the bucket, and nothing else (no KMS
   * permission). More can be added with `ImportedKeyBase.grantOperator`.
   *
   * @default - no operators: grant them later with `grantOperator`
   */
  readonly operators?: iam.IGrantable[];

  /**
   * The bucket that holds the import-parameter sets, uploads and results, under one prefix per key
   * (the key's id). Pass one bucket to share it between stacks; it should block public access,
   * enforce TLS and keep versions, like the one the stack creates.
   *
   * @default - one bucket per stack: private, versioned, TLS only, encrypted (SSE-S3), retained
   */
  readonly bucket?: s3.IBucket;

  /**
   * While the key awaits its ceremony (PendingImport, or not the expiration the deploy asks), the
   * stack's hourly sweep publishes a fresh import-parameter set when the freshest one has less than
   * this left (a set lives 24 hours), and answers a refresh request with the freshest set when it has
   * at least this left. Between 1 and 23 hours.
   *
   * @default Duration.hours(6)
   */
  readonly refreshBefore?: Duration;

  /**
   * From this long before the key's material expires (its ValidTo in KMS), the hourly sweep writes
   * the `OfflineMaterialExpiring` metric (see `addOfflineExpiryReminderAlarm`) and, once a day, puts an
   * "Imported Key Material Expiring" event (see `onOfflineExpiryReminder`) that says what to do: run
   * the ceremony with the fresh set published for a later expiration the deploy asks for, or deploy a
   * later expiration first. Between 1 and 365 days; only for an expiration `KeyMaterialExpiration.at(date)`.
   *
   * @default Duration.days(30)
   */
  readonly remindBefore?: Duration;

  /**
   * Rotation (symmetric keys only): how many materials the key should hold, 1 for its first and one
   * more for each rotation. Raise it by one and deploy to rotate: the deploy publishes a
   * NEW_KEY_MATERIAL parameter set, the operator wraps new material from the HSM, and the upload
   * imports it and makes it current (RotateKeyOnDemand); earlier materials keep decrypting. The
   * deploy, not an operator, decides that new material is wanted, and the template records it.
   * A key that already holds as many materials is not rotated again, and a lower number (a
   * rollback) changes nothing: rotation cannot be undone. Once set, keep it (it also lets expiration
   * changes reach every material of a rotated key). Not for HMAC or asymmetric keys (KMS rotates
   * only symmetric encryption keys), nor yet for multi-Region keys. See docs/offline-wrapping.md,
   * "Rotation ceremony".
   *
   * @default - the key keeps its first material (no rotation)
   */
  readonly materialGeneration?: number;
}

/**
 * Where the key material comes from. The material itself never enters the CDK app or the template:
 * only the secret's ARN does, and the import handler reads the secret at deploy time.
 */
export class KeyMaterial {
  /**
   * Key material held in an AWS Secrets Manager secret: its SecretBinary (raw bytes), or a
   * SecretString holding base64, hex or PEM text, or a JSON SecretString whose `jsonField` does.
   *
   * @param secret the secret that holds the material
   * @param options where in the secret the material is, how it is encoded, and the secret's lockdown
   */
  public static fromSecret(secret: secretsmanager.ISecret, options: SecretKeyMaterialOptions = {}): KeyMaterial {
    for (const [name, value] of Object.entries({ jsonField: options.jsonField, versionStage: options.versionStage })) {
      if (value !== undefined && !Token.isUnresolved(value) && value.trim() === '') {
        throw new Error(`KeyMaterial.fromSecret: ${name} must not be empty; got '${value}'. Omit it to use the default.`);
      }
    }
    return new KeyMaterial(secret, options.jsonField, options.versionStage, options.encoding ?? KeyMaterialEncoding.AUTO, options.lockdown);
  }

  /**
   * Key material that never exists in plaintext outside your HSM: at each import the handler
   * publishes a fresh import-parameter set (wrapping public key, import token, manifest) to S3; an
   * operator wraps the material in the HSM and uploads the blob; the upload triggers the import.
   * The deploy does not wait: the key stays PendingImport until the ceremony is done. A parameter
   * set lives 24 hours, so nothing can be wrapped ahead: a rolling expiration is refused.
   *
   * @param options who the operators are, and which bucket holds the sets
   */
  public static fromOfflineWrapping(options: OfflineWrappingOptions = {}): KeyMaterial {
    return new KeyMaterial(undefined, undefined, undefined, KeyMaterialEncoding.AUTO, undefined, { ...options, operators: [...options.operators ?? []] });
  }

  private constructor(
    /** The secret that holds the material; undefined for offline wrapping. */
    public readonly secret: secretsmanager.ISecret | undefined,
    /** JSON field of the SecretString that holds the material, if any. */
    public readonly jsonField: string | undefined,
    /** Version stage to read, if not AWSCURRENT. */
    public readonly versionStage: string | undefined,
    /** How a SecretString encodes the material. */
    public readonly encoding: KeyMaterialEncoding,
    /** The lock on the secret, if any. */
    public readonly lockdown: MaterialLockdown | undefined,
    /** Offline wrapping's options, when the material is wrapped in an HSM rather than read from a secret. */
    public readonly offlineWrapping?: OfflineWrappingOptions,
  ) {}
}
