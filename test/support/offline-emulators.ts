/**
 * local-kms and moto for the offline-wrapping tests that call the handler's operations in-process
 * (offline-publish.test.ts) or run the CLI (test/cli/ceremony.test.ts): registers beforeAll and
 * afterAll, builds the operations' clients on them (moto for S3 and Secrets Manager, path-style) and
 * creates the parameter bucket.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { OfflineClients } from '../../lambda/operations/publish-parameters';
import { EMULATOR_REGION, Server, startLocalKms, startMoto } from '../../tools/emulators';

export class OfflineEmulators {
  public clients!: OfflineClients;
  private kmsServer?: Server;
  private moto?: Server;

  constructor(bucket: string, { versioned = false } = {}) {
    beforeAll(async () => {
      [this.kmsServer, this.moto] = await Promise.all([startLocalKms(), startMoto()]);
      const config = { region: EMULATOR_REGION, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
      this.clients = {
        kms: new KMSClient({ ...config, endpoint: this.kmsServer.endpoint }),
        secrets: new SecretsManagerClient({ ...config, endpoint: this.moto.endpoint }),
        s3: new S3Client({ ...config, endpoint: this.moto.endpoint, forcePathStyle: true }),
      };
      await this.clients.s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: EMULATOR_REGION } }));
      if (versioned) await this.clients.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    });
    afterAll(async () => {
      this.clients?.kms.destroy();
      this.clients?.s3.destroy();
      this.clients?.secrets.destroy();
      await Promise.all([this.kmsServer?.stop(), this.moto?.stop()]);
    });
  }

  public get kmsEndpoint(): string {
    return this.kmsServer!.endpoint;
  }

  /** moto: S3 and Secrets Manager. */
  public get s3Endpoint(): string {
    return this.moto!.endpoint;
  }
}
