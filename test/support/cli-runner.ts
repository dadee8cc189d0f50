/**
 * Runs the bundled operator CLI (assets/cli/index.js) as a child process against the emulators,
 * with only the environment an operator would have (credentials, Region, endpoints).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { EMULATOR_REGION } from '../../tools/emulators';

export const CLI = resolve(__dirname, '..', '..', 'assets', 'cli', 'index.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

/**
 * `endpoints` name the S3 and KMS emulators (either may be left out); `env` adds to or overrides the
 * environment (for example MiniStack's AWS_ENDPOINT_URL and Region).
 */
export function runCli(args: string[], endpoints: { s3?: string; kms?: string }, env: Record<string, string> = {}): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run bundle.`);
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH, HOME: tmpdir(), AWS_REGION: EMULATOR_REGION, AWS_ACCESS_KEY_ID: 'emulator', AWS_SECRET_ACCESS_KEY: 'emulator',
        ...(endpoints.s3 ? { AWS_ENDPOINT_URL_S3: endpoints.s3 } : {}), ...(endpoints.kms ? { AWS_ENDPOINT_URL_KMS: endpoints.kms } : {}),
        AWS_EC2_METADATA_DISABLED: 'true', ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', fail);
    child.once('close', (code) => ok({ code, stdout, stderr }));
  });
}
