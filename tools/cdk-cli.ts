import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStacksCommand, Stack, StackEvent } from '@aws-sdk/client-cloudformation';

/** The repository root: `npx cdk` there runs the aws-cdk CLI package.json pins, with cdk.json's app. */
export const REPO_ROOT = resolve(__dirname, '..');

export interface CliRun {
  readonly code: number;
  /** stdout and stderr, interleaved as printed. */
  readonly output: string;
  readonly seconds: number;
}

/** The CLI `npx cdk` runs in this repository: the aws-cdk package.json pins (2.1148.x). */
export const CDK_BIN = resolve(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/** Runs the project's pinned CDK CLI (what `npx cdk ...` runs, from any folder) with `env` (the engine's endpoint and dummy credentials). */
export async function runCdk(args: string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<CliRun> {
  const started = Date.now();
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CDK_BIN, ...args], {
      cwd,
      env: { ...process.env, ...env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', FORCE_COLOR: '0', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.once('error', fail);
    child.once('close', (code) => ok({ code: code ?? 1, output, seconds: (Date.now() - started) / 1000 }));
  });
}

/** `cdk deploy` flags that keep a test run quiet and unattended. */
export const DEPLOY_FLAGS = ['--require-approval', 'never', '--progress', 'events', '--no-notices', '--no-version-reporting'];

/** Runs `cdk` and fails with its output when it exits non-zero. */
export async function cdkOk(args: string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<CliRun> {
  const run = await runCdk(args, env, cwd);
  if (run.code !== 0) throw new Error(`cdk ${args.join(' ')} exited with ${run.code}:\n${run.output.slice(-6000)}`);
  return run;
}

export async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack> {
  return (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0];
}

/** The stack's events, oldest first. */
export async function stackEvents(cfn: CloudFormationClient, stackName: string): Promise<StackEvent[]> {
  const events: StackEvent[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken }));
    events.push(...page.StackEvents ?? []);
    NextToken = page.NextToken;
  } while (NextToken);
  return events.reverse(); // DescribeStackEvents lists the newest first; timestamps tie within a second
}
