import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where scripts/install-emulators.sh puts the emulators. */
const CACHE = resolve(__dirname, '..', '.cache', 'emulators');
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

export function requireInstalled(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: run 'bash scripts/install-emulators.sh' (npm test does).`);
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

export async function waitForPort(port: number, child: ChildProcess, name: string, output: () => string, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = new Socket();
      socket.once('connect', () => { socket.destroy(); ok(true); });
      socket.once('error', () => ok(false));
      socket.connect(port, host);
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on ${host} port ${port} within 30 s: ${output()}`);
}

export function start(command: string, args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log = (log + d).slice(-4000); });
  child.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  return { child, output: () => log };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** One emulator process, listening. */
export interface Server {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts `command` and waits until it listens on host:port; `cleanup` runs after it stopped. */
export async function serve(name: string, command: string, args: string[], env: Record<string, string>,
  port: number, host = '127.0.0.1', cleanup: () => void = () => undefined): Promise<Server> {
  requireInstalled(command);
  const server = start(command, args, env);
  const stop = async () => {
    await stopProcess(server.child);
    cleanup();
  };
  try {
    await waitForPort(port, server.child, name, server.output, host);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, stop };
}

/** local-kms for `region` on a free 127.0.0.1 port, with its data in a fresh temporary folder. */
export async function startLocalKms(region = EMULATOR_REGION): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'local-kms-'));
  const port = await freePort();
  return serve('local-kms', LOCAL_KMS_BIN, [], {
    PORT: String(port), KMS_REGION: region, KMS_ACCOUNT_ID: '111122223333',
    KMS_DATA_PATH: dataDir, KMS_SEED_PATH: join(dataDir, 'no-seed.yaml'),
  }, port, '127.0.0.1', () => rmSync(dataDir, { recursive: true, force: true }));
}

/** moto's server (used for Secrets Manager) on a free 127.0.0.1 port. */
export async function startMoto(): Promise<Server> {
  const port = await freePort();
  return serve('moto', MOTO_SERVER_BIN, ['-H', '127.0.0.1', '-p', String(port)], {}, port);
}

/** A KMS and a Secrets Manager endpoint as one Emulators, with the environment that points the SDK at them. */
export async function emulatorsOf(kms: Promise<Server>, secrets: Promise<Server>, region = EMULATOR_REGION): Promise<Emulators> {
  const settled = await Promise.allSettled([kms, secrets]);
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const stop = async () => { await Promise.all(started.map((server) => server.stop())); };
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [kmsEndpoint, secretsEndpoint] = started.map((server) => server.endpoint);
  return {
    kmsEndpoint,
    secretsEndpoint,
    env: {
      AWS_ENDPOINT_URL_KMS: kmsEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'emulator',
      AWS_SECRET_ACCESS_KEY: 'emulator',
    },
    stop,
  };
}

/** Starts local-kms (KMS) and moto (Secrets Manager); the caller must `stop()` them (in afterAll). */
export async function startEmulators(): Promise<Emulators> {
  return emulatorsOf(startLocalKms(), startMoto());
}
