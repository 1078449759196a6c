// The Magpie web client (packages/web) served at `/` of the HTTP(S) listeners through the
// fallback route: paths the listener does not serve itself (WebSocket, BOSH, host-meta) and no
// other module owns. The page finds the WebSocket endpoint on its own origin (XEP-0156 host-meta
// or the page location). Disable with modules.disabled: ['web-client'].

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';
import { z } from 'zod';
import { defineModule } from '../module.js';
import { websocketLink } from '../../transports/host-meta.js';
import { contentSecurityPolicy, fileKey, loadStaticFiles, type StaticFile } from './static-files.js';

// From packages/server/{src,dist}/modules/web-client/ to packages/web/dist.
const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../web/dist');

export default defineModule({
  manifest: {
    name: 'web-client',
    description: 'Serves the built Magpie web client (packages/web/dist) at / on the HTTP(S) listeners',
    specs: [],
    options: z.object({
      /** Directory holding the built client (index.html, assets/); default packages/web/dist. */
      root: z.string().optional(),
      /** Extra connect-src sources for the page's Content-Security-Policy (an upload host on http, a BOSH proxy). */
      extraConnectSrc: z.array(z.string().regex(/^[^\s;,]+$/)).default([]),
      /** Seconds browsers keep the hashed bundle files. */
      assetMaxAge: z.number().int().min(0).default(31_536_000),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const root = o.root ? resolve(o.root) : DEFAULT_ROOT;
    let files: Map<string, StaticFile> | undefined;
    let warned = false;
    // Loaded on first use, so a server started before `npm run build:web` finishes still serves it.
    const load = (): Map<string, StaticFile> | undefined => {
      files ??= loadStaticFiles(root);
      if (!files && !warned) { warned = true; api.log.warn({ root }, 'web client not built (npm run build:web); / answers 503'); }
      return files;
    };

    const common = (res: http.ServerResponse): void => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('x-frame-options', 'DENY');
    };

    api.httpFallback((req, res, { secure, path }) => {
      common(res);
      const all = load();
      const key = fileKey(path);
      if (!all && key === '/index.html') {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '30' });
        res.end('the web client is not built: run npm run build:web\n');
        return;
      }
      const file = key === undefined ? undefined : all?.get(key);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      // 405 only for files that exist: other paths stay 404 whatever the method (a POST to a
      // switched-off BOSH path is "not found", not "wrong method").
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
        res.end('method not allowed\n');
        return;
      }
      const headers: Record<string, string> = { 'content-type': file.type, etag: file.etag };
      if (file.immutable) headers['cache-control'] = `public, max-age=${o.assetMaxAge}, immutable`;
      else headers['cache-control'] = 'no-cache';
      if (key === '/index.html') {
        const ws = websocketLink(req, { secure, websocketPath: api.config.http.websocketPath, websocketUrl: api.config.http.websocketUrl });
        headers['content-security-policy'] = contentSecurityPolicy({ websocketOrigin: ws && new URL(ws).origin, extraConnectSrc: o.extraConnectSrc });
      }
      if (req.headers['if-none-match'] === file.etag) { res.writeHead(304, headers); res.end(); return; }
      headers['content-length'] = String(file.body.length);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : file.body);
    });
  },
});
