// The HTTP side of XEP-0363 (§5 "Upload", §6 "Download"): PUT to the slot URL once, with exactly
// the announced size and content type, then GET (and HEAD) by anyone holding the URL — the
// unguessable slot id is the capability, as in the XEP's examples. Browsers upload from the web
// client's origin, so CORS allows PUT with a Content-Type header from any origin (§10 asks for
// it). Downloads carry headers that stop a browser from running what a user uploaded as part of
// the server's own origin: nosniff, a sandboxing CSP, and attachment unless the type is media.

import type http from 'node:http';
import type { Logger } from '../../log/logger.js';
import type { HttpHandler } from '../../transports/http-routes.js';
import { TooLarge, type FileStore } from './file-store.js';
import type { Slots } from './slots.js';

const INLINE = /^(image|audio|video)\//;

export interface UploadHttpOptions { prefix: string; slotTtl: number; slots: Slots; files: FileStore; log: Logger }

function cors(res: http.ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, PUT, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Access-Control-Max-Age', '86400');
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

export function uploadHandler(o: UploadHttpOptions): HttpHandler {
  return async (req, res, { path }) => {
    cors(res);
    // /<prefix>/<slot id>/<file name>
    const [id, name, ...rest] = path.slice(o.prefix.length + 1).split('/');
    if (req.method === 'OPTIONS') { res.writeHead(204); res.end(); return; }
    if (!id || name === undefined || rest.length) return reply(res, 404, 'not found');
    const rec = await o.slots.get(id);
    let filename: string;
    try { filename = decodeURIComponent(name); } catch { return reply(res, 404, 'not found'); }
    if (!rec || rec.filename !== filename) return reply(res, 404, 'not found');

    if (req.method === 'PUT') {
      if (rec.uploaded) return reply(res, 409, 'this slot was already used');
      if (Date.now() - rec.created > o.slotTtl * 1000) return reply(res, 410, 'this slot has expired');
      const length = Number(req.headers['content-length']);
      if (req.headers['content-length'] === undefined || !Number.isInteger(length)) return reply(res, 411, 'Content-Length is required');
      if (length !== rec.size) return reply(res, 400, `Content-Length must be ${rec.size}, as requested for the slot`);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (rec.contentType && type && type !== rec.contentType.toLowerCase()) return reply(res, 400, `Content-Type must be ${rec.contentType}`);
      try {
        await o.files.put(id, req, rec.size);
      } catch (e) {
        o.log.info({ slot: id, err: (e as Error).message }, 'upload failed');
        return reply(res, e instanceof TooLarge ? 413 : 400, e instanceof TooLarge ? 'more bytes than the slot allows' : 'upload incomplete');
      }
      await o.slots.markUploaded(id, rec);
      o.log.info({ slot: id, owner: rec.owner, size: rec.size }, 'file uploaded');
      return reply(res, 201, 'created');
    }

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!rec.uploaded) return reply(res, 404, 'not found');
      const file = await o.files.get(id);
      if (!file) return reply(res, 404, 'not found');
      const type = rec.contentType || 'application/octet-stream';
      res.writeHead(200, {
        'content-type': type,
        'content-length': String(file.size),
        'content-disposition': `${INLINE.test(type) ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(rec.filename)}`,
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'cache-control': 'public, max-age=31536000, immutable',
        'last-modified': new Date(rec.uploaded).toUTCString(),
      });
      if (req.method === 'HEAD') { file.stream.destroy(); res.end(); return; }
      file.stream.on('error', () => res.destroy());
      file.stream.pipe(res);
      return;
    }
    res.setHeader('Allow', 'GET, HEAD, PUT, OPTIONS');
    reply(res, 405, 'method not allowed');
  };
}
