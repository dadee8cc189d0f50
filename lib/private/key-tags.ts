import type { TagManager } from 'aws-cdk-lib';
import { KEY_TAG, MATERIAL_SOURCE } from '../shared/contract';

/**
 * Tags a key this stack creates with where its material comes from and, for offline wrapping, its
 * parameter bucket, so that the operator CLI's `status --all` and `status --stack` can tell a key's
 * mode and find its bucket from KMS alone (ListResourceTags), without the template.
 */
export function tagMaterialSource(keyResource: { readonly tags?: TagManager } | undefined, parameterBucket: string | undefined): void {
  if (!keyResource?.tags) return;
  keyResource.tags.setTag(KEY_TAG.MATERIAL_SOURCE, parameterBucket ? MATERIAL_SOURCE.OFFLINE_WRAPPING : MATERIAL_SOURCE.SECRETS_MANAGER);
  if (parameterBucket) keyResource.tags.setTag(KEY_TAG.PARAMETER_BUCKET, parameterBucket);
}
