// Static files of the built web client (packages/web/dist), held in memory: the bundle is a few
// hundred kilobytes and never changes while the server runs. File names under assets/ carry a
// content hash, so they are cached for a year (RFC 9111 §5.2.2.1 max-age, RFC 8246 immutable);
// index.html is revalidated every time (ETag), so a new build is picked up at once.
// The page gets a strict Content-Security-Policy (CSP Level 3): only its own scripts and styles,
// connections to its own origin (ws/wss for XMPP over WebSocket, RFC 7395) and https (XEP-0363
// uploads live on the https listener or another host), images from https links shown inline.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile { body: Buffer; type: string; etag: string; immutable: boolean }

export function contentType(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Load every file under `root` keyed by URL path ('/index.html', '/assets/app-HASH.js');
    undefined when there is no index.html (the client was not built). */
export function loadStaticFiles(root: string, maxFiles = 500): Map<string, StaticFile> | undefined {
  try { if (!statSync(join(root, 'index.html')).isFile()) return undefined; } catch { return undefined; }
  const files = new Map<string, StaticFile>();
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      // Dot files (editor swap files, .DS_Store) are never part of a build.
      if (e.name.startsWith('.')) continue;
      if (files.size >= maxFiles) throw new Error(`more than ${maxFiles} files under ${root}`);
      const full = join(dir, e.name);
      if (e.isDirectory()) { walk(full, `${prefix}${e.name}/`); continue; }
      if (!e.isFile()) continue;
      const body = readFileSync(full);
      files.set(`${prefix}${e.name}`, {
        body, type: contentType(e.name),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        // esbuild names hashed outputs name-HASH.ext (8 characters of base32).
        immutable: prefix.startsWith('/assets/') && /-[A-Z0-9]{8}\.[a-z]+$/.test(e.name),
      });
    }
  };
  walk(root, '/');
  return files;
}

export interface CspOptions { websocketOrigin: string | undefined; extraConnectSrc: string[] }

/** The policy for the page. No inline script or style: everything comes from the bundle. */
export function contentSecurityPolicy(o: CspOptions): string {
  const connect = ["'self'", ...(o.websocketOrigin ? [o.websocketOrigin] : []), 'https:', ...o.extraConnectSrc];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: data: blob:",
    `connect-src ${[...new Set(connect)].join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Map a request path to a file key: '/' is the page; anything with '..' or a NUL is refused. */
export function fileKey(path: string): string | undefined {
  let p: string;
  try { p = decodeURIComponent(path); } catch { return undefined; }
  if (p.includes('\0') || p.split('/').some((seg) => seg === '..' || seg === '.')) return undefined;
  return p === '/' || p === '' ? '/index.html' : p;
}
