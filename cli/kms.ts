/**
 * The KMS and CloudFormation reads of `status` and `verify` (callers with KMS read access, not
 * operators): which keys, and what KMS says about each. Never reads or prints material.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { IMPORT_RESOURCE_TYPE } from '../lib/shared/contract';
import { awsError } from './output';

export const KMS_HINT = 'Check the Region and your credentials (status and verify need kms:DescribeKey, kms:ListAliases, kms:ListResourceTags; --all kms:ListKeys; --stack cloudformation:ListStackResources).';

export function kmsClient(region?: string): KMSClient {
  return new KMSClient({ region, maxAttempts: 3 });
}

/** What KMS says about one key, with its aliases and tags. */
export interface KeyFacts {
  readonly metadata: KeyMetadata;
  readonly aliases: string[];
  readonly tags: Record<string, string>;
}

async function pages<T>(what: string, page: (marker?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  try {
    do {
      const result = await page(marker);
      all.push(...result.items);
      marker = result.next;
    } while (marker);
  } catch (error) {
    throw awsError(what, error, KMS_HINT);
  }
  return all;
}

/** Every key id of the account in the client's Region (kms:ListKeys). */
export async function accountKeyIds(kms: KMSClient): Promise<string[]> {
  return pages('Listing the keys with kms:ListKeys', async (Marker) => {
    const r = await kms.send(new ListKeysCommand({ Marker }));
    return { items: (r.Keys ?? []).map((k) => k.KeyId!), next: r.Truncated ? r.NextMarker : undefined };
  });
}

/**
 * The keys of a stack: its AWS::KMS::Key and AWS::KMS::ReplicaKey resources (physical id: the key
 * id), and the keys its import resources name (physical id: the key ARN; this covers adopted keys).
 * Returns key ids, and the ids an import resource of the stack names.
 */
export async function stackKeyIds(region: string | undefined, stackName: string): Promise<{ keyIds: string[]; imported: Set<string> }> {
  const cfn = new CloudFormationClient({ region, maxAttempts: 3 });
  try {
    const resources = await pages(`Listing the resources of stack ${stackName} with cloudformation:ListStackResources`, async (NextToken) => {
      const r = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
      return { items: r.StackResourceSummaries ?? [], next: r.NextToken };
    });
    const idOf = (physical: string) => physical.slice(physical.lastIndexOf('/') + 1);
    const keys = resources.filter((r) => ['AWS::KMS::Key', 'AWS::KMS::ReplicaKey'].includes(r.ResourceType!) && r.PhysicalResourceId);
    const imports = resources.filter((r) => r.ResourceType === IMPORT_RESOURCE_TYPE && r.PhysicalResourceId?.startsWith('arn:'));
    const imported = new Set(imports.map((r) => idOf(r.PhysicalResourceId!)));
    return { keyIds: [...new Set([...keys.map((r) => idOf(r.PhysicalResourceId!)), ...imported])], imported };
  } finally {
    cfn.destroy();
  }
}

/** Aliases by target key id (kms:ListAliases, all pages). */
export async function aliasesByKey(kms: KMSClient): Promise<Map<string, string[]>> {
  const aliases = await pages('Listing aliases with kms:ListAliases', async (Marker) => {
    const r = await kms.send(new ListAliasesCommand({ Marker }));
    return { items: r.Aliases ?? [], next: r.Truncated ? r.NextMarker : undefined };
  });
  const byKey = new Map<string, string[]>();
  for (const alias of aliases) {
    if (!alias.TargetKeyId || !alias.AliasName) continue;
    byKey.set(alias.TargetKeyId, [...(byKey.get(alias.TargetKeyId) ?? []), alias.AliasName].sort());
  }
  return byKey;
}

export async function describeKey(kms: KMSClient, keyId: string): Promise<KeyMetadata> {
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  } catch (error) {
    throw awsError(`Describing ${keyId} with kms:DescribeKey`, error, KMS_HINT);
  }
}

export async function keyTags(kms: KMSClient, keyId: string): Promise<Record<string, string>> {
  const tags = await pages(`Reading the tags of ${keyId} with kms:ListResourceTags`, async (Marker) => {
    const r = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Marker }));
    return { items: r.Tags ?? [], next: r.Truncated ? r.NextMarker : undefined };
  });
  return Object.fromEntries(tags.map((t) => [t.TagKey!, t.TagValue ?? '']));
}
