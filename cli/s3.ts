/**
 * The CLI's S3 and KMS clients, and the few calls it makes. The SDK's usual configuration applies
 * (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3 ...); with an endpoint override, path-style
 * addressing is used, as S3-compatible endpoints need.
 */
import { KMSClient, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { awsError, CliError, EXIT } from './output';

export interface Clients {
  readonly s3: S3Client;
  readonly region: string;
}

/** The Region of a key ARN (arn:aws:kms:<region>:<account>:key/<id>), or undefined for anything else. */
export function regionOfArn(arn: string): string | undefined {
  return /^arn:aws[\w-]*:kms:([a-z0-9-]+):\d{12}:key\/[\w-]+$/.exec(arn)?.[1];
}

export function s3Client(region: string): S3Client {
  const endpointOverride = Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  return new S3Client({ region, forcePathStyle: endpointOverride, maxAttempts: 3 });
}

/**
 * The key ARN for `--key`: an ARN as given; an alias (alias/...) or key id resolved by
 * DescribeKey, which needs kms:DescribeKey (operators usually have no KMS permission: give the ARN).
 */
export async function resolveKeyArn(key: string, region: string | undefined): Promise<string> {
  if (key.startsWith('arn:')) {
    if (!regionOfArn(key)) throw new CliError(`--key ${key} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); give the key's ARN, or an alias with --region.`, EXIT.USAGE);
    return key;
  }
  if (!region) throw new CliError(`--key ${key} is not an ARN: pass --region to resolve it with kms:DescribeKey, or give the key's ARN.`, EXIT.USAGE);
  const kms = new KMSClient({ region, maxAttempts: 3 });
  try {
    const arn = (await kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata?.Arn;
    if (!arn) throw new CliError(`KMS did not return an ARN for ${key}; give the key's ARN.`, EXIT.AWS);
    return arn;
  } catch (error) {
    throw awsError(`Resolving ${key} with kms:DescribeKey (operators usually have no KMS permission: give the key's ARN instead)`, error);
  } finally {
    kms.destroy();
  }
}

/** Every key under `prefix` (all pages). */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
  } catch (error) {
    throw awsError(`Listing s3://${bucket}/${prefix}`, error);
  }
  return keys;
}

/** An object's bytes, or undefined when it does not exist. */
export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw awsError(`Reading s3://${bucket}/${key}`, error);
  }
}

/** Writes an object; returns its version id and ETag. */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<{ versionId?: string; etag?: string }> {
  try {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    return { versionId: put.VersionId, etag: put.ETag };
  } catch (error) {
    throw awsError(`Writing s3://${bucket}/${key}`, error);
  }
}
