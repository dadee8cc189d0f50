import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EMULATOR_REGION, freePort, requireInstalled, waitForPort } from './emulators';

/** Where scripts/install-emulators.sh puts MiniStack (its own virtualenv). */
export const MINISTACK_BIN = resolve(__dirname, '..', '.cache', 'emulators', 'ministack', 'bin', 'ministack');
/** The account MiniStack answers as (its default, MINISTACK_ACCOUNT_ID). */
export const MINISTACK_ACCOUNT = '000000000000';

/** A running MiniStack: CloudFormation, Lambda (local processes), KMS, Secrets Manager, S3, ... on one loopback port. */
export interface MiniStack {
  readonly endpoint: string;
  /** Environment that points the AWS SDK and the CDK CLI at the engine, with dummy credentials. */
  readonly env: Record<string, string>;
  /** Its state folder (STATE_DIR) and temporary folder (TMPDIR): both fresh, both removed by stop(). */
  readonly stateDir: string;
  readonly tmpDir: string;
  /** Everything the engine printed, and every file it wrote under its state and temporary folders. */
  logs(): string;
  /** Every TCP listener of the engine's process tree, as `ss -ltnpH` prints them. */
  listeners(): string[];
  stop(): Promise<void>;
}

/** The process and its descendants (MiniStack runs each function as a child process). */
function processTree(root: number): Set<number> {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch { /* the process ended meanwhile */ }
  }
  const tree = new Set([root]);
  const queue = [root];
  while (queue.length > 0) for (const child of parents.get(queue.pop()!) ?? []) if (!tree.has(child)) { tree.add(child); queue.push(child); }
  return tree;
}

/** The text of every file under `dir` (what the engine wrote: function code it unpacked, logs, state). */
function filesUnder(dir: string): string {
  let text = '';
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const file = join(path, name);
      const stat = statSync(file, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(file);
      else if (stat?.isFile() && stat.size < 20_000_000) text += `\n${file}\n${readFileSync(file, 'latin1')}`;
    }
  };
  try { walk(dir); } catch { /* removed meanwhile */ }
  return text;
}

async function stopTree(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const group = -child.pid!;
  try { process.kill(group, 'SIGTERM'); } catch { /* gone */ }
  const timer = setTimeout(() => { try { process.kill(group, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
  await exited;
  clearTimeout(timer);
  try { process.kill(group, 'SIGKILL'); } catch { /* every function process ended with it */ }
}

/**
 * Starts MiniStack on a free 127.0.0.1 port with a fresh state and temporary folder. Its defaults
 * are changed where they reach outside the test: BIND_HOST (else 0.0.0.0), IOT_MTLS_ENABLED=0 (else
 * an MQTT listener on 0.0.0.0:8883), STATE_DIR (else /tmp/ministack-state) and TMPDIR (function code).
 * The engine runs in its own process group; stop() ends the group and removes both folders.
 */
export async function startMiniStack(region = EMULATOR_REGION): Promise<MiniStack> {
  requireInstalled(MINISTACK_BIN);
  const stateDir = mkdtempSync(join(tmpdir(), 'ministack-state-'));
  const tmpDir = mkdtempSync(join(tmpdir(), 'ministack-tmp-'));
  const port = await freePort();
  // Through the virtualenv's python, not the script's shebang: a virtualenv built elsewhere and moved
  // (the shared .cache/emulators) keeps the old path in its shebang, and spawning the script fails ENOENT.
  const child = spawn(join(MINISTACK_BIN, '..', 'python'), [MINISTACK_BIN], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      BIND_HOST: '127.0.0.1', GATEWAY_PORT: String(port), MINISTACK_HOST: '127.0.0.1', IOT_MTLS_ENABLED: '0', SFTP_ENABLED: '0',
      STATE_DIR: stateDir, TMPDIR: tmpDir, PERSIST_STATE: '0', LAMBDA_EXECUTOR: 'local', MINISTACK_REGION: region,
      // Its in-memory CloudTrail: the tests count the KMS calls the handler made (LookupEvents).
      CLOUDTRAIL_RECORDING: '1', CLOUDTRAIL_MAX_EVENTS: '1000000',
    },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopTree(child);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(tmpDir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, 'ministack', () => output.slice(-4000));
  } catch (error) {
    await stop();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    stateDir,
    tmpDir,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'ministack',
      AWS_SECRET_ACCESS_KEY: 'ministack',
    },
    logs: () => `${output}${filesUnder(stateDir)}${filesUnder(tmpDir)}`,
    listeners: () => {
      const pids = processTree(child.pid!);
      return execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).split('\n')
        .filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))));
    },
    stop,
  };
}

/** One call the engine's in-memory CloudTrail recorded (CLOUDTRAIL_RECORDING=1). */
export interface RecordedCall {
  readonly eventSource: string;
  readonly eventName: string;
  readonly requestParameters?: { KeyId?: string; SecretId?: string };
}

/**
 * The calls MiniStack recorded, newest first, optionally only those named `eventName` or from one
 * `eventSource`: LookupEvents over plain JSON (the engine checks no signature; the SDK's CloudTrail
 * client is not a dependency). It returns at most 50 events and no NextToken, so this pages by
 * EndTime (inclusive, fractional seconds), dropping repeats by EventId.
 */
export async function recordedCalls(engine: MiniStack, eventName?: string, eventSource?: string): Promise<RecordedCall[]> {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const attributes = [
    ...(eventName ? [{ AttributeKey: 'EventName', AttributeValue: eventName }] : []),
    ...(eventSource ? [{ AttributeKey: 'EventSource', AttributeValue: eventSource }] : []),
  ];
  const seen = new Map<string, RecordedCall>();
  let endTime: number | undefined;
  for (;;) {
    const response = await fetch(engine.endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
        'Authorization': `AWS4-HMAC-SHA256 Credential=ministack/${day}/${engine.env.AWS_REGION}/cloudtrail/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ LookupAttributes: attributes, MaxResults: 50, ...(endTime === undefined ? {} : { EndTime: endTime }) }),
    });
    const { Events = [] } = await response.json() as { Events?: { EventId: string; EventTime: number; CloudTrailEvent: string }[] };
    const fresh = Events.filter((e) => !seen.has(e.EventId));
    for (const e of fresh) seen.set(e.EventId, JSON.parse(e.CloudTrailEvent) as RecordedCall);
    if (Events.length < 50 || fresh.length === 0) break;
    endTime = Math.min(...Events.map((e) => Number(e.EventTime)));
  }
  return [...seen.values()];
}

/** True when every listener binds a loopback address (127.0.0.0/8 or [::1]), none 0.0.0.0, [::] or *. */
export function onlyLoopback(listeners: string[]): boolean {
  return listeners.every((line) => {
    const local = line.trim().split(/\s+/)[3] ?? '';
    return /^127\.\d+\.\d+\.\d+:\d+$/.test(local) || /^\[::1\]:\d+$/.test(local);
  });
}
