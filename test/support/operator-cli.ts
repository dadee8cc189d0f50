/**
 * Offline wrapping ceremonies on emulators: the bundled operator CLI run as a child process, and
 * openssl playing the HSM by running the openssl block of the recipe the CLI printed, as printed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

export const CLI = resolve(__dirname, '..', '..', 'assets', 'cli', 'index.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** Runs the CLI with only the environment given (plus PATH and a scratch HOME); records its output in `transcript`. */
export function runCli(args: string[], env: Record<string, string>, transcript: string[]): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run bundle.`);
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: tmpdir(), AWS_EC2_METADATA_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', fail);
    child.once('close', (code) => { transcript.push(stdout, stderr); ok({ code, stdout, stderr }); });
  });
}

/** The commands of the openssl block of the CLI's recipe, as printed. */
export function opensslRecipe(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith('openssl ('));
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end).map((l) => l.replace(/^ {4}/, ''));
}

/** Runs the commands under bash -euc in `cwd` (where material.bin is), as an operator would paste them. */
export function runRecipe(commands: string[], cwd: string): Promise<void> {
  return new Promise<void>((ok, fail) => {
    const sh = spawn('bash', ['-euc', commands.join('\n')], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    sh.once('close', (code) => (code === 0 ? ok() : fail(new Error(`the recipe exited ${code}`))));
  });
}
