/**
 * Runs the bundled CLI (assets/cli/index.js) in a child process with the SDK pointed at emulators,
 * and keeps everything it printed for the leak scan.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { EMULATOR_REGION } from '../../../tools/emulators';

export const CLI = resolve(__dirname, '..', '..', '..', 'assets', 'cli', 'index.js');

export interface Run { code: number | null; stdout: string; stderr: string }

/** A CLI runner whose environment names the emulators' endpoints (AWS_ENDPOINT_URL_KMS, ..._S3); `transcript` collects all output. */
export function cliRunner(endpoints: () => Record<string, string>): { cli: (args: string[]) => Promise<Run>; transcript: string[] } {
  const transcript: string[] = [];
  const cli = (args: string[]) => new Promise<Run>((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH, HOME: tmpdir(), AWS_REGION: EMULATOR_REGION, AWS_ACCESS_KEY_ID: 'emulator', AWS_SECRET_ACCESS_KEY: 'emulator',
        AWS_EC2_METADATA_DISABLED: 'true', ...endpoints(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', fail);
    child.once('close', (code) => { transcript.push(stdout, stderr); ok({ code, stdout, stderr }); });
  });
  return { cli, transcript };
}

/** Fails if any of `secrets` appears in `printed` as base64, base64url or hex (the first 24 characters). */
export function expectNoSecretIn(printed: string, secrets: Buffer[]): void {
  for (const secret of secrets) {
    for (const encoded of [secret.toString('base64').slice(0, 24), secret.toString('hex').slice(0, 24), secret.toString('base64url').slice(0, 24)]) {
      expect(printed).not.toContain(encoded);
    }
  }
}
