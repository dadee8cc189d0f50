import { createServer, request, Server } from 'node:http';

/**
 * A pass-through HTTP proxy in front of an emulator that counts API calls by operation
 * (the X-Amz-Target header), so the benchmark can count what a Create or Update really sends.
 */
export class CountingProxy {
  public readonly counts = new Map<string, number>();
  private server?: Server;

  constructor(private readonly target: string) {}

  public async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop()!;
      this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
      const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(upstream);
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  public reset(): void {
    this.counts.clear();
  }

  public total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  public async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((ok) => this.server?.close(ok));
  }
}
