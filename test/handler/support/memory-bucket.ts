/**
 * S3 for the offline-wrapping handler tests: an in-memory bucket behind the aws-sdk-client-mock S3
 * stub, answering PutObject, GetObject (NoSuchKey when absent) and ListObjectsV2 (Prefix, StartAfter,
 * key order, pages of `pageSize`) as S3 documents them. Objects keep their write time (the test's
 * clock, so fake timers move it) and size. Versioned, as the stack's bucket is: each put is a new
 * version (a fresh VersionId, an MD5 ETag), GetObject returns the latest or the VersionId asked for
 * (NoSuchVersion when there is none). A test that needs S3 to fail overrides a command with `s3.on(X)`.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  GetObjectCommand, GetObjectCommandInput, ListObjectsV2Command, ListObjectsV2CommandInput, PutObjectCommand, PutObjectCommandInput, S3Client,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { awsError } from './kms-model';

export interface StoredObject {
  readonly body: Buffer;
  readonly lastModified: Date;
  readonly versionId: string;
  /** Quoted, as S3 returns it. */
  readonly etag: string;
}

export class MemoryBucket {
  /** The latest version of each key. */
  public readonly objects = new Map<string, StoredObject>();
  /** Every version of each key, oldest first. */
  public readonly versions = new Map<string, StoredObject[]>();
  public pageSize = 1000;

  constructor(public readonly name: string) {}

  /** Stores a new version of `key`, as PutObject does, and returns it. */
  public put(key: string, body: Uint8Array | string): StoredObject {
    const bytes = Buffer.from(body);
    const stored = { body: bytes, lastModified: new Date(), versionId: randomBytes(12).toString('base64url'), etag: `"${createHash('md5').update(bytes).digest('hex')}"` };
    this.objects.set(key, stored);
    this.versions.set(key, [...(this.versions.get(key) ?? []), stored]);
    return stored;
  }

  /** Removes every object and version. */
  public clear(): void {
    this.objects.clear();
    this.versions.clear();
  }

  public text(key: string): string | undefined {
    return this.objects.get(key)?.body.toString('utf8');
  }

  public json<T = Record<string, unknown>>(key: string): T {
    const text = this.text(key);
    if (text === undefined) throw new Error(`no object ${key} in the bucket`);
    return JSON.parse(text) as T;
  }

  public keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  public install(s3: AwsClientStub<S3Client>): void {
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      this.check(input.Bucket);
      const stored = this.put(input.Key!, input.Body as Uint8Array | string);
      return { ETag: stored.etag, VersionId: stored.versionId };
    });
    s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      this.check(input.Bucket);
      const latest = this.objects.get(input.Key!);
      if (!latest) throw awsError('NoSuchKey', 'The specified key does not exist.');
      const object = input.VersionId ? this.versions.get(input.Key!)?.find((v) => v.versionId === input.VersionId) : latest;
      if (!object) throw awsError('NoSuchVersion', 'The specified version does not exist.');
      const bytes = Buffer.from(object.body);
      return { ContentLength: bytes.length, VersionId: object.versionId, ETag: object.etag, Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(bytes)), destroy: () => undefined } };
    });
    s3.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => {
      this.check(input.Bucket);
      const after = input.ContinuationToken ?? input.StartAfter ?? '';
      const keys = this.keys(input.Prefix ?? '').filter((k) => k > after);
      const page = keys.slice(0, this.pageSize);
      return {
        Contents: page.map((Key) => ({ Key, Size: this.objects.get(Key)!.body.length, LastModified: this.objects.get(Key)!.lastModified })),
        IsTruncated: keys.length > page.length,
        NextContinuationToken: keys.length > page.length ? page[page.length - 1] : undefined,
      };
    });
  }

  private check(bucket: string | undefined): void {
    if (bucket !== this.name) throw awsError('NoSuchBucket', `The specified bucket ${bucket} does not exist.`);
  }
}
