/**
 * The parts of synthesized CloudFormation templates (and of the JSON reports and log lines around
 * them) that the tests read, typed so that reading them is checked. A property is declared on every
 * resource for brevity: each is present on the resource types that have it.
 */
import { Template } from 'aws-cdk-lib/assertions';

export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Action?: unknown;
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, unknown>;
}

export interface PolicyDocumentJson {
  readonly Statement: PolicyStatementJson[];
}

export interface CfnProperties {
  readonly [key: string]: unknown;
  readonly KeyPolicy: PolicyDocumentJson;
  readonly PolicyDocument: PolicyDocumentJson;
  readonly ResourcePolicy: PolicyDocumentJson;
  readonly Roles: Array<{ Ref: string }>;
  readonly Targets: Array<{ Arn: unknown; Input: unknown }>;
  readonly KeyArn: { 'Fn::GetAtt': [string, string] } | string;
  readonly Code: { S3Key: string };
  readonly Timeout: number;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties: CfnProperties;
  readonly DependsOn?: string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export type CfnResources = Record<string, CfnResource>;

export interface CfnTemplate {
  readonly Resources: CfnResources;
}

/** The resources of a synthesized template. */
export function resourcesOf(template: Template): CfnResources {
  return (template.toJSON() as CfnTemplate).Resources;
}

/** The properties of each resource of `type` whose logical id starts with `idPrefix`. */
export function propertiesOf(template: Template, type: string, idPrefix: string): CfnProperties[] {
  return Object.entries(template.findResources(type) as CfnResources).filter(([id]) => id.startsWith(idPrefix)).map(([, r]) => r.Properties);
}

/** cdk-nag's and aws-cdk-lib's policy validation report (validation-report.json). */
export interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly violations: Array<{ readonly ruleName: string; readonly violatingConstructs: Array<{ readonly constructPath: string }> }>;
    readonly suppressedViolations: Array<{ readonly ruleName: string; readonly reason: string }>;
  }>;
}

/** One structured log line of the handler (JSON), with the fields the tests read. */
export interface LogLine {
  readonly [key: string]: unknown;
  readonly requestType?: string;
  readonly keyArn?: string;
  readonly outcome?: string;
  readonly reason?: string;
  readonly imported?: boolean;
  readonly _aws?: unknown;
}

/** Parses one handler log line. */
export const parseLog = (line: string) => JSON.parse(line) as LogLine;
