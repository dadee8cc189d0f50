/**
 * Evaluates synthesized resource policies with @cloud-copilot/iam-simulate (an IAM policy
 * evaluation library: every condition operator, resource and identity policies), after resolving
 * the template's references to concrete ARNs.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

/** Resolves Ref, Fn::GetAtt (to a role ARN named after the logical id) and Fn::Join in a synthesized policy. */
export function resolvePolicy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(resolvePolicy);
  if (node && typeof node === 'object') {
    const o = node as { [key: string]: unknown; Ref?: unknown; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]]; 'Fn::Sub'?: unknown };
    if (typeof o.Ref === 'string') return ({ 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws', 'AWS::Region': REGION } as Record<string, string>)[o.Ref] ?? `arn:aws:iam::${ACCOUNT}:role/${o.Ref}`;
    if (o['Fn::GetAtt']) return roleArn(o['Fn::GetAtt'][0]);
    if (o['Fn::Join']) return o['Fn::Join'][1].map(resolvePolicy).join(o['Fn::Join'][0]);
    if (typeof o['Fn::Sub'] === 'string') return o['Fn::Sub'].replace(/\$\{AWS::Partition\}/g, 'aws');
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolvePolicy(v)]));
  }
  return node;
}

/** The ARN a resolved Fn::GetAtt [logicalId, 'Arn'] of a role stands for. */
export const roleArn = (logicalId: string) => `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;

export interface Request {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  /** The principal's own identity policies. */
  readonly identityPolicies?: unknown[];
}

/** 'Allowed', 'ImplicitlyDenied' or 'ExplicitlyDenied', as IAM would decide `request` under `resourcePolicy`. */
export async function decide(resourcePolicy: unknown, request: Request): Promise<string> {
  const result = await runSimulation({
    // The library does not derive aws:PrincipalArn from the principal; IAM does.
    request: {
      principal: request.principal, action: request.action, resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: { 'aws:PrincipalArn': request.principal, ...request.context },
    },
    identityPolicies: (request.identityPolicies ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  }, {});
  if (result.resultType !== 'single') throw new Error(`simulation did not give one decision: ${JSON.stringify(result).slice(0, 500)}`);
  return result.overallResult;
}
