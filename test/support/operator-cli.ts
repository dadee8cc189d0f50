/**
 * Offline wrapping ceremonies: openssl playing the HSM by running the openssl block of the recipe
 * the CLI printed, as printed (the CLI itself runs through ./cli-runner.ts).
 */
import { spawn } from 'node:child_process';

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
