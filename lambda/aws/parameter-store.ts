/**
 * Offline wrapping: the S3 calls on a key's prefix of the parameter bucket. Each throws the SDK's
 * error as it came; callers map it.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** Writes one object (the handler's own files: parameter sets and results). */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** An object's bytes, or undefined when there is none (NoSuchKey, or NoSuchVersion for a version) or it is larger than `maxBytes` (its body is not read). */
export async function getObject(s3: S3Client, bucket: string, key: string, maxBytes: number, versionId?: string): Promise<Buffer | 'too-large' | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    if ((object.ContentLength ?? 0) > maxBytes) {
      (object.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return 'too-large';
    }
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    return bytes.length > maxBytes ? 'too-large' : bytes;
  } catch (error) {
    // NoSuchVersion: the key exists but not in the version asked for (an event about another object).
    if (['NoSuchKey', 'NoSuchVersion'].includes((error as { name?: string }).name ?? '')) return undefined;
    throw error;
  }
}

/** One object of a listing: its key, size and when it was written. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified?: Date;
}

/** Every object under `prefix` whose key sorts after `startAfter` (all pages), in key order. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string, startAfter?: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: token ? undefined : startAfter, ContinuationToken: token }));
    objects.push(...(page.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified })));
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}
