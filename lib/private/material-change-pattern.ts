import type * as events from 'aws-cdk-lib/aws-events';

/** The CloudTrail management events that change, or could change, a key's material or availability. */
export const MATERIAL_CHANGE_EVENTS = ['ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'GetParametersForImport', 'RotateKeyOnDemand', 'DisableKey', 'ScheduleKeyDeletion'];

/**
 * The EventBridge pattern of those calls on `keyArn` by anyone but `handlerRoleArn`. CloudTrail
 * records a Lambda's calls as userIdentity.type AssumedRole with sessionContext.sessionIssuer.arn
 * the role's ARN; other callers (IAM users, the root user, federated users) have no sessionIssuer,
 * and a pattern never matches a field the event lacks, so they are matched by type instead.
 */
export function keyMaterialChangePattern(keyArn: string, handlerRoleArn: string): events.EventPattern {
  return {
    source: ['aws.kms'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      eventName: MATERIAL_CHANGE_EVENTS,
      resources: { ARN: [keyArn] },
      $or: [
        { userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] } },
        { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [handlerRoleArn] }] } } } },
      ],
    },
  };
}
