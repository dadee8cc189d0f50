/**
 * Size of a policy document as IAM counts it (resolved, no whitespace), with every
 * CloudFormation reference replaced by the longest value it could take.
 */
const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws-iso-b',
  'AWS::Region': 'ap-southeast-5x',
  'AWS::AccountId': '111122223333',
  'AWS::URLSuffix': 'amazonaws.com.cn',
};
const OTHER_REFERENCE = `arn:aws:iam::111122223333:role/${'x'.repeat(64)}`;

/** `node` with every CloudFormation reference replaced by the longest value it could take. */
export function resolveWorstCase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(resolveWorstCase);
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.Ref === 'string') return PSEUDO[o.Ref] ?? OTHER_REFERENCE;
    if (o['Fn::GetAtt']) return OTHER_REFERENCE;
    if (o['Fn::Join']) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolveWorstCase(p)).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveWorstCase(v)]));
  }
  return node;
}

export function iamPolicySize(policyDocument: unknown): number {
  return JSON.stringify(resolveWorstCase(policyDocument)).length;
}
