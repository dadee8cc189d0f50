import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where scripts/install-emulators.sh puts the emulators. */
const CACHE = resolve(__dirname, '..', '..', '.cache', 'emulators');
export const LOCAL_KMS_BIN = join(CACHE, 'bin', 'local-kms');
export const MOTO_SERVER_BIN = join(CACHE, 'venv', 'bin', 'moto_server');
export const CFN_LINT_BIN = join(CACHE, 'venv', 'bin', 'cfn-lint');
export const EMULATOR_REGION = 'eu-west-2';

/** Running emulators: local-kms for KMS, moto for Secrets Manager, on free 127.0.0.1 ports. */
export interface Emulators {
  readonly kmsEndpoint: string;
  readonly secretsEndpoint: string;
  /** Environment that points the AWS SDK (and the handler bundle) at the emulators. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

function requireInstalled(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: run 'bash scripts/install-emulators.sh' (npm test does).`);
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = new Socket();
      socket.once('connect', () => { socket.destroy(); ok(true); });
      socket.once('error', () => ok(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within 30 s: ${output()}`);
}

function start(command: string, args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => { log = (log + d).slice(-4000); });
  child.stderr!.on('data', (d) => { log = (log + d).slice(-4000); });
  return { child, output: () => log };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts both emulators; the caller must `stop()` them (in afterAll). */
export async function startEmulators(): Promise<Emulators> {
  requireInstalled(LOCAL_KMS_BIN);
  requireInstalled(MOTO_SERVER_BIN);
  const dataDir = mkdtempSync(join(tmpdir(), 'local-kms-'));
  const [kmsPort, motoPort] = [await freePort(), await freePort()];
  const kms = start(LOCAL_KMS_BIN, [], {
    PORT: String(kmsPort), KMS_REGION: EMULATOR_REGION, KMS_ACCOUNT_ID: '111122223333',
    KMS_DATA_PATH: dataDir, KMS_SEED_PATH: join(dataDir, 'no-seed.yaml'),
  });
  const moto = start(MOTO_SERVER_BIN, ['-H', '127.0.0.1', '-p', String(motoPort)], {});
  const stop = async () => {
    await Promise.all([stopProcess(kms.child), stopProcess(moto.child)]);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForPort(kmsPort, kms.child, 'local-kms', kms.output);
    await waitForPort(motoPort, moto.child, 'moto', moto.output);
  } catch (error) {
    await stop();
    throw error;
  }
  const kmsEndpoint = `http://127.0.0.1:${kmsPort}`;
  const secretsEndpoint = `http://127.0.0.1:${motoPort}`;
  return {
    kmsEndpoint,
    secretsEndpoint,
    env: {
      AWS_ENDPOINT_URL_KMS: kmsEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: 'emulator',
      AWS_SECRET_ACCESS_KEY: 'emulator',
    },
    stop,
  };
}
