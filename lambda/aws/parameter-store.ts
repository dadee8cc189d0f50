/**
 * Offline wrapping: the S3 calls on a key's prefix of the parameter bucket. Each throws the SDK's
 * error as it came; callers map it.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** Writes one object (the handler's own files: parameter sets and results). */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}
