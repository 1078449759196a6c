// A small HTTPS/HTTP client for the file-sharing scenarios: Node's fetch cannot be told to trust
// the server's generated development certificate, node:https can (rejectUnauthorized: false on
// loopback only, in tests).
import http from 'node:http';
import https from 'node:https';

export interface HttpReply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<HttpReply> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request({ hostname: '127.0.0.1', port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: { host: u.host, ...opts.headers },
      rejectUnauthorized: false, servername: u.hostname }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
