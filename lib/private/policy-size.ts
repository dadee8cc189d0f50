import { Stack } from 'aws-cdk-lib';

/** Longest value each pseudo parameter resolves to (aws-iso-b / a long Region name / 12 digits). */
const PSEUDO_PARAMETER_LENGTH: Readonly<Record<string, number>> = {
  'AWS::Partition': 10,
  'AWS::Region': 16,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
};
/**
 * A reference to any other resource, e.g. the Ref of a Secret: a full secret ARN, whose name may be
 * 512 characters ('arn:aws-iso-b:secretsmanager:<region>:<account>:secret:<name>-XXXXXX').
 */
const OTHER_REFERENCE_LENGTH = 600;

/** A KMS key ARN: 'arn:aws-iso-b:kms:<region>:<account>:key/<36-character key id>'. */
export const KMS_KEY_ARN_MAX_LENGTH = 100;

/**
 * A safe upper bound of the characters `value` takes once CloudFormation resolved it (IAM policy
 * size limits apply to the resolved policy, without whitespace; EventBridge's to the resolved input).
 */
export function resolvedLengthUpperBound(stack: Stack, value: string): number {
  return measure(stack.resolve(value));
}

function measure(node: unknown): number {
  if (typeof node === 'string') return node.length;
  if (Array.isArray(node)) return node.reduce((sum: number, item) => sum + measure(item), 0);
  if (node && typeof node === 'object') {
    const { Ref: ref, 'Fn::Join': join } = node as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
    if (typeof ref === 'string') return PSEUDO_PARAMETER_LENGTH[ref] ?? OTHER_REFERENCE_LENGTH;
    if (join) return measure(join[1]) + join[0].length * Math.max(0, join[1].length - 1);
  }
  return OTHER_REFERENCE_LENGTH;
}
