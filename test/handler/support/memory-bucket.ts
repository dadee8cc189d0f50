/**
 * S3 for the offline-wrapping handler tests: an in-memory bucket behind the aws-sdk-client-mock S3
 * stub, answering PutObject, GetObject (NoSuchKey when absent) and ListObjectsV2 (Prefix, StartAfter,
 * key order, pages of `pageSize`) as S3 documents them. Objects keep their write time (the test's
 * clock, so fake timers move it) and size. A test that needs S3 to fail overrides a command with `s3.on(X)`.
 */
import {
  GetObjectCommand, GetObjectCommandInput, ListObjectsV2Command, ListObjectsV2CommandInput, PutObjectCommand, PutObjectCommandInput, S3Client,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { awsError } from './kms-model';

export interface StoredObject {
  readonly body: Buffer;
  readonly lastModified: Date;
}

export class MemoryBucket {
  public readonly objects = new Map<string, StoredObject>();
  public pageSize = 1000;

  constructor(public readonly name: string) {}

  public put(key: string, body: Buffer | string): void {
    this.objects.set(key, { body: Buffer.from(body), lastModified: new Date() });
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
      this.put(input.Key!, typeof input.Body === 'string' ? input.Body : Buffer.from(input.Body as Uint8Array));
      return { ETag: '"etag"' };
    });
    s3.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      this.check(input.Bucket);
      const object = this.objects.get(input.Key!);
      if (!object) throw awsError('NoSuchKey', 'The specified key does not exist.');
      const bytes = Buffer.from(object.body);
      return { ContentLength: bytes.length, Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(bytes)), destroy: () => undefined } };
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
