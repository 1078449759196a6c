// Routes that feature modules add to the HTTP(S) listeners (XEP-0363 file transfer today;
// anything served over HTTP tomorrow), so a module never edits the listener itself
// (ARCHITECTURE.md: "if it forces an edit in the stream, add the missing hook"). A route owns
// every path under its prefix. The listener asks the table first, then its own endpoints
// (WebSocket upgrade, BOSH, host-meta), then the one fallback route (a web client owning `/`
// and everything nobody else serves), and then answers 404.

import type http from 'node:http';

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse, ctx: { secure: boolean; path: string }) => void | Promise<void>;

export class HttpRoutes {
  private routes: { prefix: string; handler: HttpHandler }[] = [];
  private fallback: HttpHandler | undefined;
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

  /** Serve what no prefix route and no listener endpoint serves (one owner only); returns the undo. */
  setFallback(handler: HttpHandler): () => void {
    if (this.fallback) throw new Error('the HTTP fallback route is taken');
    this.fallback = handler;
    return () => { if (this.fallback === handler) this.fallback = undefined; };
  }

  /** Serve the request when a route owns its path; false otherwise. A handler's failure answers 500. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean, onError: (e: unknown) => void): boolean {
    let path: string;
    try { path = new URL(req.url ?? '/', 'http://x').pathname; } catch { return false; }
    const route = this.routes.find((r) => path === r.prefix || path.startsWith(r.prefix + '/'));
    if (!route) return false;
    return this.run(route.handler, req, res, secure, path, onError);
  }

  /** Give the request to the fallback route, if there is one; false otherwise. */
  handleFallback(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean, onError: (e: unknown) => void): boolean {
    const handler = this.fallback;
    if (!handler) return false;
    let path: string;
    try { path = new URL(req.url ?? '/', 'http://x').pathname; } catch { return false; }
    return this.run(handler, req, res, secure, path, onError);
  }

  private run(handler: HttpHandler, req: http.IncomingMessage, res: http.ServerResponse, secure: boolean, path: string, onError: (e: unknown) => void): boolean {
    const fail = (e: unknown): void => {
      onError(e);
      if (!res.headersSent) { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('internal server error\n'); } else res.destroy();
    };
    try { const r = handler(req, res, { secure, path }); if (r) r.catch(fail); } catch (e) { fail(e); }
    return true;
  }
}
