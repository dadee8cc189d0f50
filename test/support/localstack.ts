import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Emulators, emulatorsOf, freePort, serve, Server, startMoto } from '../../tools/emulators';

/** Where scripts/install-emulators.sh puts LocalStack (a Python 3.13 virtualenv). */
export const LOCALSTACK_PYTHON = resolve(__dirname, '..', '..', '.cache', 'emulators', 'localstack', 'bin', 'python');

/**
 * LocalStack's KMS (localstack-core in host mode, no Docker) on [::1] only: its default server binds
 * every IPv4 interface whatever host it is given, but honours an IPv6 loopback address. Only KMS:
 * localstack-core's Secrets Manager needs moto-ext (its "runtime" extra), so moto serves Secrets Manager.
 */
export async function startLocalStackKms(): Promise<Server> {
  return startLocalStackServices('kms');
}

/** LocalStack with only the given services (comma-separated), on [::1]; the caller must `stop()` it. */
export async function startLocalStackServices(services: string): Promise<Server> {
  const root = mkdtempSync(join(tmpdir(), 'localstack-'));
  const port = await freePort('::1');
  return serve('LocalStack', LOCALSTACK_PYTHON, ['-m', 'localstack.runtime.main'], {
    SERVICES: services,
    GATEWAY_LISTEN: `[::1]:${port}`,
    OVERRIDE_IN_DOCKER: '0',
    DNS_ADDRESS: '0',
    DISABLE_EVENTS: '1',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    FILESYSTEM_ROOT: root,
  }, port, '::1', () => rmSync(root, { recursive: true, force: true }));
}

/** LocalStack for KMS and moto for Secrets Manager; the caller must `stop()` them (in afterAll). */
export async function startLocalStack(): Promise<Emulators> {
  return emulatorsOf(startLocalStackKms(), startMoto());
}
