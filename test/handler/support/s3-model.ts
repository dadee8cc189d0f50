/**
 * A versioned S3 bucket in memory behind aws-sdk-client-mock, for the offline-wrapping handler
 * tests: PutObject keeps every version (a fresh VersionId and an MD5 ETag each), GetObject returns
 * the latest or the version asked for, NoSuchKey and NoSuchVersion as S3 names them. Only what the
 * handler calls is modelled: PutObject and GetObject, keyed by bucket and key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, GetObjectCommandInput, PutObjectCommand, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { awsError } from './kms-model';

export interface StoredVersion {
  readonly versionId: string;
  readonly etag: string;
  readonly body: Buffer;
}

export class S3Model {
  private readonly objects = new Map<string, StoredVersion[]>();

  public reset(): void {
    this.objects.clear();
  }

  /** Stores a new version, as PutObject does; returns its VersionId and ETag. */
  public put(bucket: string, key: string, body: Uint8Array | string): StoredVersion {
    const bytes = Buffer.from(body);
    const version = { versionId: randomBytes(12).toString('base64url'), etag: `"${createHash('md5').update(bytes).digest('hex')}"`, body: bytes };
    const path = `${bucket}/${key}`;
    this.objects.set(path, [...(this.objects.get(path) ?? []), version]);
    return version;
  }

  /** The latest version of an object (undefined when there is none). */
  public latest(bucket: string, key: string): StoredVersion | undefined {
    return this.objects.get(`${bucket}/${key}`)?.at(-1);
  }

  /** Every key of the bucket that has a version. */
  public keys(bucket: string): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${bucket}/`)).map((k) => k.slice(bucket.length + 1));
  }

  /** Every stored body, for leak scans. */
  public bodies(): Buffer[] {
    return [...this.objects.values()].flat().map((v) => v.body);
  }

  public install(s3: AwsClientStub<S3Client>): void {
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      const stored = this.put(input.Bucket!, input.Key!, input.Body as Uint8Array | string);
      return { VersionId: stored.versionId, ETag: stored.etag };
    });
    s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      const versions = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!versions) throw awsError('NoSuchKey', 'The specified key does not exist.');
      const version = input.VersionId ? versions.find((v) => v.versionId === input.VersionId) : versions.at(-1);
      if (!version) throw awsError('NoSuchVersion', 'The specified version does not exist.');
      const body = Buffer.from(version.body); // a fresh copy, as each response is
      return { Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(body)) }, ContentLength: body.length, VersionId: version.versionId, ETag: version.etag };
    });
  }
}
