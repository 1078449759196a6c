// Routes that feature modules add to the HTTP(S) listeners (XEP-0363 file transfer today;
// anything served over HTTP tomorrow), so a module never edits the listener itself
// (ARCHITECTURE.md: "if it forces an edit in the stream, add the missing hook"). A route owns
// every path under its prefix. The listener asks the table first and falls back to its own
// endpoints (WebSocket upgrade, BOSH, host-meta) and then 404.

import type http from 'node:http';

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse, ctx: { secure: boolean; path: string }) => void | Promise<void>;

export class HttpRoutes {
  private routes: { prefix: string; handler: HttpHandler }[] = [];
  /** Bound ports of the listeners, filled in by the server once they listen. */
  readonly ports: { http?: number; https?: number } = {};

  /** Own every path equal to `prefix` or under `prefix/`; returns the undo. */
  add(prefix: string, handler: HttpHandler): () => void {
    if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(prefix)) throw new Error(`bad HTTP route prefix ${prefix}`);
    if (this.routes.some((r) => r.prefix === prefix)) throw new Error(`HTTP route ${prefix} is taken`);
    const route = { prefix, handler };
    this.routes.push(route);
    return () => { this.routes = this.routes.filter((r) => r !== route); };
  }

  /** Serve the request when a route owns its path; false otherwise. A handler's failure answers 500. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean, onError: (e: unknown) => void): boolean {
    let path: string;
    try { path = new URL(req.url ?? '/', 'http://x').pathname; } catch { return false; }
    const route = this.routes.find((r) => path === r.prefix || path.startsWith(r.prefix + '/'));
    if (!route) return false;
    const fail = (e: unknown): void => {
      onError(e);
      if (!res.headersSent) { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('internal server error\n'); } else res.destroy();
    };
    try { const r = route.handler(req, res, { secure, path }); if (r) r.catch(fail); } catch (e) { fail(e); }
    return true;
  }
}
