import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { App, Stack } from 'aws-cdk-lib';
import { IMPORT_RESOURCE_TYPE, ImportProperties } from '../lib/shared/contract';
import { Emulators } from './emulators';
import { CfnResources, CfnTemplate } from './template';

type Resources = CfnResources;

/** Per custom resource of the synthesized template: its properties and its key's properties. */
export interface SynthesizedImport {
  readonly properties: Record<string, unknown>;
  /** The key's logical id; empty for a key the stack names by ARN (ImportedKeyMaterial adopts it). */
  readonly keyLogicalId: string;
  readonly keyProperties?: { KeySpec: string; KeyUsage: string; Origin: string; Description?: string };
}

/** Output of one `cdk synth`: the handler bundle as written into the cloud assembly, and the imports. */
export interface Synthesized {
  readonly bundle: string;
  readonly imports: Record<string, SynthesizedImport>;
  /** The inputs of the renewal schedule's rule targets, as CloudFormation templates them. */
  readonly renewalInputs: unknown[];
  /** The template's resources. */
  readonly resources: Resources;
}

/** Synthesizes a stack into a fresh cloud assembly, exactly as `cdk synth` writes it. */
export function synthesize(build: (stack: Stack) => void): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'EmulatorStack');
  build(stack);
  app.synth();
  const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as CfnTemplate;
  const resources = template.Resources;
  const handler = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler')!;
  const assetHash = String(handler.Properties.Code.S3Key).replace(/\.zip$/, '');
  const imports = Object.fromEntries(Object.entries(resources)
    .filter(([, r]) => r.Type === IMPORT_RESOURCE_TYPE)
    .map(([id, r]) => {
      const keyLogicalId = typeof r.Properties.KeyArn === 'string' ? '' : r.Properties.KeyArn['Fn::GetAtt'][0];
      const { ServiceToken: _token, ...properties } = r.Properties;
      return [id, { properties, keyLogicalId, keyProperties: resources[keyLogicalId]?.Properties as unknown as SynthesizedImport['keyProperties'] }];
    }));
  const renewalInputs = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression)
    .flatMap((r) => r.Properties.Targets.map((t) => t.Input));
  return { bundle: join(outdir, `asset.${assetHash}`, 'index.js'), imports, renewalInputs, resources };
}

/** One handler invocation's outcome, as the Provider framework would report it. */
export type Outcome = { status: 'SUCCESS'; response: { PhysicalResourceId: string; Data: Record<string, string> } } | { status: 'FAILED'; reason: string };

/**
 * CloudFormation's part, played against the emulators: creates each key with the template's key
 * properties, then sends Create / Update / Delete events built from the template's custom-resource
 * properties to the synthesized handler bundle, run in its own Node process.
 */
export class EmulatedDeployment {
  /** Everything the handler processes printed and returned, for leak scans. */
  public static readonly transcript: string[] = [];
  /** Environment for the handler process on top of the emulators' (e.g. a fault proxy's endpoint). */
  public envOverrides: Record<string, string> = {};
  private readonly keyArns = new Map<string, string>();

  constructor(private readonly emulators: Emulators, public readonly synthesized: Synthesized) {}

  /** Creates the keys of all imports (CloudFormation creates AWS::KMS::Key before the import). */
  public async createKeys(kms: KMSClient): Promise<void> {
    for (const { keyLogicalId, keyProperties, properties } of Object.values(this.synthesized.imports)) {
      if (!keyProperties) continue; // a key that exists already (adopted by ARN)
      // A replica (AWS::KMS::ReplicaKey) has its primary's spec; the emulators cannot ReplicateKey, so an
      // EXTERNAL key of that spec in this emulator stands in for it (KMS creates replicas without material).
      const replica = this.synthesized.resources[keyLogicalId].Type === 'AWS::KMS::ReplicaKey';
      const { KeyMetadata } = await kms.send(new CreateKeyCommand(replica
        ? { KeySpec: (properties.KeySpec ?? 'SYMMETRIC_DEFAULT') as 'SYMMETRIC_DEFAULT', Origin: 'EXTERNAL', Description: 'replica' }
        : { KeySpec: keyProperties.KeySpec as 'SYMMETRIC_DEFAULT', KeyUsage: keyProperties.KeyUsage as 'ENCRYPT_DECRYPT',
          Origin: keyProperties.Origin as 'EXTERNAL', Description: keyProperties.Description }));
      this.keyArns.set(keyLogicalId, KeyMetadata!.Arn!);
    }
  }

  public keyArn(importId: string): string {
    const found = this.import(importId);
    return found.keyLogicalId ? this.keyArns.get(found.keyLogicalId)! : found.properties.KeyArn as string;
  }

  /** The import's resource properties with the key ARN resolved, as CloudFormation would send them. */
  public properties(importId: string, overrides: Partial<ImportProperties> = {}): ImportProperties {
    const { properties } = this.import(importId);
    const resolveGetAtt = (_k: string, v: unknown) => {
      const getAtt = (v as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
      return getAtt ? this.keyArns.get(getAtt[0]) : v;
    };
    const resolved = { ...(JSON.parse(JSON.stringify(properties), resolveGetAtt) as ImportProperties), ...overrides };
    const text = JSON.stringify(resolved);
    if (/"(Fn::|Ref)/.test(text)) throw new Error(`unresolved token in ${text}`);
    return resolved;
  }

  public createEvent(importId: string, overrides: Partial<ImportProperties> = {}) {
    return { RequestType: 'Create' as const, ResourceProperties: this.properties(importId, overrides) };
  }

  public updateEvent(newProps: ImportProperties, oldProps: ImportProperties) {
    return { RequestType: 'Update' as const, PhysicalResourceId: oldProps.KeyArn, ResourceProperties: newProps, OldResourceProperties: oldProps };
  }

  /** The events the renewal schedule sends, with each import's KeyArn resolved to its key's ARN. */
  public renewalEvents(): object[] {
    const resolve = (node: unknown): string => {
      if (typeof node === 'string') return node;
      const { 'Fn::Join': joined, 'Fn::GetAtt': getAtt } = node as { 'Fn::Join'?: [string, unknown[]]; 'Fn::GetAtt'?: [string, string] };
      if (joined) return joined[1].map(resolve).join(joined[0]);
      if (getAtt && getAtt[1] === 'KeyArn') return this.keyArn(getAtt[0]);
      throw new Error(`unresolvable ${JSON.stringify(node)}`);
    };
    return this.synthesized.renewalInputs.map((input) => JSON.parse(resolve(input)) as object);
  }

  public deleteEvent(physicalResourceId: string, props: ImportProperties) {
    return { RequestType: 'Delete' as const, PhysicalResourceId: physicalResourceId, ResourceProperties: props };
  }

  /** Runs the synthesized bundle on `events` concurrently, in one fresh Node process. */
  public async invoke(...events: object[]): Promise<Outcome[]> {
    const child = spawn(process.execPath, [join(__dirname, 'run-bundle.js'), this.synthesized.bundle], {
      env: { PATH: process.env.PATH ?? '', ...this.emulators.env, ...this.envOverrides }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdin.end(JSON.stringify(events));
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    EmulatedDeployment.transcript.push(stdout, stderr);
    const line = stdout.split('\n').find((l) => l.startsWith('RESULTS '));
    if (code !== 0 || !line) throw new Error(`handler process exited with ${code}: ${stderr}`);
    return JSON.parse(line.slice('RESULTS '.length)) as Outcome[];
  }

  private import(importId: string): SynthesizedImport {
    const found = this.synthesized.imports[importId] ?? Object.entries(this.synthesized.imports).find(([id]) => id.startsWith(importId))?.[1];
    if (!found) throw new Error(`no import ${importId} in ${Object.keys(this.synthesized.imports).join(',')}`);
    return found;
  }
}
