import { createServer as createTcpServer, Server as TcpServer } from 'node:net';
import { createServer, request, Server } from 'node:http';

/**
 * A pass-through HTTP proxy in front of an emulator, on 127.0.0.1. It counts API calls by operation
 * (the X-Amz-Target header), so tests and the benchmark see what a Create or Update really sends,
 * and it can answer chosen calls with an AWS error instead of forwarding them (a throttled API).
 */
export class ApiProxy {
  public readonly counts = new Map<string, number>();
  private readonly faults = new Map<string, { times: number; type: string; status: number }>();
  /** The proxy's endpoint, once started. */
  public url = '';
  private server?: Server;

  constructor(private readonly target: string) {}

  public async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop()!;
      this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
      const fault = this.faults.get(operation);
      if (fault && fault.times > 0) {
        fault.times--;
        req.resume();
        res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: fault.type, message: 'injected by the test proxy' }));
        return;
      }
      const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(upstream);
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.url;
  }

  /** Answers the next `times` calls of `operation` with the AWS error `type` (HTTP `status`). */
  public failNext(operation: string, times: number, type: string, status = 400): void {
    this.faults.set(operation, { times, type, status });
  }

  public count(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  public reset(): void {
    this.counts.clear();
    this.faults.clear();
  }

  public total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  public async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((ok) => this.server?.close(ok));
  }
}

/** An endpoint on 127.0.0.1 that resets every connection it accepts (a broken network path). */
export async function startResettingEndpoint(): Promise<{ url: string; connections: () => number; stop: () => Promise<void> }> {
  let connections = 0;
  const server: TcpServer = createTcpServer((socket) => {
    connections++;
    socket.resetAndDestroy();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    stop: () => new Promise((ok) => server.close(() => ok())),
  };
}
