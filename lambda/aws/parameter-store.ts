/**
 * Offline wrapping: the S3 calls on a key's prefix of the parameter bucket. Each throws the SDK's
 * error as it came; callers map it.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** Writes one object (the handler's own files: parameter sets and results). */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** An object's bytes, or undefined when there is none (NoSuchKey) or it is larger than `maxBytes` (its body is not read). */
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
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}
