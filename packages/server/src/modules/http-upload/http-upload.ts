// HTTP File Upload (XEP-0363 1.1, urn:xmpp:http:upload:0) as a service on `upload.<host>`
// (configurable): discovery (§3, with the max-file-size form of §3.1), slot requests (§4) with
// the size, type, quota and rate limits of §4.1 answered with their errors, and the HTTP PUT/GET
// of §5–§6 on the server's own HTTP(S) listeners (./upload-http.ts). Only the server's own users
// may request slots (§11: a service "SHOULD" restrict uploads to its users). Files and unused
// slots expire (§11, "the service MAY delete files after some time").

import { join } from 'node:path';
import { z } from 'zod';
import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import { defineModule } from '../module.js';
import { DiskFileStore } from './file-store.js';
import { Slots } from './slots.js';
import { uploadHandler } from './upload-http.js';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';
const MiB = 1024 * 1024;

export default defineModule({
  manifest: {
    name: 'http-upload',
    description: 'HTTP file upload service (upload.<host>) served by the server\'s HTTP listeners',
    specs: [{ spec: 'XEP-0363', version: '1.1', status: 'complete', notes: 'files on disk under the data directory behind a FileStore interface; size, content-type, quota and rate limits; expiry of files and unused slots' }],
    options: z.object({
      /** Service domain; {host} is replaced by each hosted domain. */
      domain: z.string().default('upload.{host}'),
      /** Path prefix on the HTTP(S) listeners. */
      path: z.string().regex(/^\/[A-Za-z0-9._~-]+$/).default('/upload'),
      /** Public base URL of the listener (scheme://host[:port]), e.g. behind a reverse proxy; else https://<host>:<https port>. */
      baseUrl: z.string().regex(/^https?:\/\/[^\s/]+$/).optional(),
      /** Largest file, bytes (advertised as max-file-size). */
      maxFileSize: z.number().int().min(1).default(10 * MiB),
      /** Bytes one user may hold (files plus open slots). */
      quotaBytes: z.number().int().min(0).default(1024 * MiB),
      /** Slot requests per user per hour. */
      maxSlotsPerHour: z.number().int().min(1).default(100),
      /** Allowed content types (exact or "type/*"); empty allows any. */
      allowedContentTypes: z.array(z.string()).default([]),
      /** Seconds a slot stays open for its PUT. */
      slotTtl: z.number().int().min(10).default(300),
      /** Days before an uploaded file is deleted; 0 keeps files forever. */
      expireAfterDays: z.number().min(0).default(30),
      /** Directory of the uploaded files; default <dataDir>/uploads. In a cluster every node must
          see the same files (a slot requested on one node may be uploaded through another and
          downloaded through a third): a shared mount. */
      directory: z.string().min(1).optional(),
      /** Seconds between expiry sweeps. */
      sweepInterval: z.number().int().min(1).default(3600),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const files = new DiskFileStore(o.directory ?? join(api.config.dataDir, 'uploads'));
    if (api.config.cluster.enabled && !o.directory) {
      api.log.warn('http-upload: files are kept under this node\'s data directory; in a cluster set modules.options.http-upload.directory to a directory every node shares, or downloads through other nodes fail');
    }
    const byService = new Map<string, { host: string; slots: Slots }>();
    for (const host of api.hosts()) {
      const domain = o.domain.replaceAll('{host}', host);
      if (api.isLocalHost(domain)) throw new Error(`http-upload: the service domain ${domain} is a hosted domain`);
      byService.set(domain, { host, slots: new Slots(api.stores.map, domain) });
      api.serveDomain(domain);
    }
    const issued = api.metric('slots');
    const recent = new Map<string, number[]>();

    for (const [domain, { host, slots }] of byService) {
      api.discoItem((h) => (h === host ? { jid: domain, name: 'HTTP file upload' } : undefined));
      api.http(`${o.path}/${domain}`, uploadHandler({ prefix: `${o.path}/${domain}`, slotTtl: o.slotTtl, slots, files, log: api.log }));
    }

    const baseUrl = (host: string): string => {
      if (o.baseUrl) return o.baseUrl;
      const p = api.httpPorts();
      if (p.https) return `https://${host}:${p.https}`;
      if (p.http) return `http://${host}:${p.http}`;
      throw new StanzaError('service-unavailable', 'no HTTP listener to upload to');
    };

    const typeAllowed = (type: string): boolean => o.allowedContentTypes.length === 0 || o.allowedContentTypes.some((t) =>
      t.endsWith('/*') ? type.startsWith(t.slice(0, -1)) : t === type);

    const tooFrequent = (owner: string): boolean => {
      const now = Date.now();
      const list = (recent.get(owner) ?? []).filter((t) => now - t < 3_600_000);
      if (list.length >= o.maxSlotsPerHour) { recent.set(owner, list); return true; }
      list.push(now);
      recent.set(owner, list);
      return false;
    };

    const info = (): Element => xml('query', NS.DISCO_INFO, {},
      xml('identity', NS.DISCO_INFO, { category: 'store', type: 'file', name: 'HTTP file upload' }),
      xml('feature', NS.DISCO_INFO, { var: NS.DISCO_INFO }),
      xml('feature', NS.DISCO_INFO, { var: NS_UPLOAD }),
      xml('x', 'jabber:x:data', { type: 'result' },
        xml('field', 'jabber:x:data', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', 'jabber:x:data', {}, NS_UPLOAD)),
        xml('field', 'jabber:x:data', { var: 'max-file-size' }, xml('value', 'jabber:x:data', {}, String(o.maxFileSize)))));

    const requestSlot = async (ev: StanzaEvent, req: Element, domain: string, host: string, slots: Slots): Promise<Element> => {
      const from = ev.from;
      if (!from.local || !api.isLocalHost(from.domain)) throw new StanzaError('forbidden', 'only this server\'s users may upload');
      const filename = req.attrs.filename ?? '';
      const size = Number(req.attrs.size);
      const contentType = (req.attrs['content-type'] ?? '').trim();
      if (!filename || filename.length > 255 || /[\u0000-\u001f/\\]/.test(filename)) throw new StanzaError('bad-request', 'a file name (no path, at most 255 characters) is required');
      if (!Number.isSafeInteger(size) || size < 1) throw new StanzaError('bad-request', 'size must be a positive number of bytes');
      if (size > o.maxFileSize) {
        throw new StanzaError('not-acceptable', `the largest file accepted is ${o.maxFileSize} bytes`, 'modify',
          xml('file-too-large', NS_UPLOAD, {}, xml('max-file-size', NS_UPLOAD, {}, String(o.maxFileSize))));
      }
      if (contentType && !/^[\w.+-]+\/[\w.+-]+$/.test(contentType)) throw new StanzaError('bad-request', 'malformed content-type');
      if (!typeAllowed(contentType.toLowerCase())) throw new StanzaError('not-acceptable', `files of type ${contentType || '(none)'} are not accepted`);
      const owner = from.bareString();
      if (tooFrequent(owner)) {
        throw new StanzaError('resource-constraint', 'too many upload requests; wait a while', 'wait',
          xml('retry', NS_UPLOAD, { stamp: new Date(Date.now() + 60_000).toISOString() }));
      }
      const usage = await slots.usage(from.domain, from.local);
      if (usage.bytes + size > o.quotaBytes) throw new StanzaError('resource-constraint', 'your upload quota is used up', 'wait');
      const id = await slots.create({ owner, host: from.domain, user: from.local, filename, size, contentType });
      issued.inc();
      api.log.info({ owner, size, service: domain }, 'upload slot issued');
      const url = `${baseUrl(host)}${o.path}/${domain}/${id}/${encodeURIComponent(filename)}`;
      return xml('slot', NS_UPLOAD, {}, xml('put', NS_UPLOAD, { url }), xml('get', NS_UPLOAD, { url }));
    };

    api.hook('route/component', async (ev) => {
      const svc = byService.get(ev.to.domain);
      if (!svc) return undefined;
      const s = ev.stanza;
      if (s.name !== 'iq') {
        if (s.name === 'message') api.bounce(ev, new StanzaError('service-unavailable'));
        return true;
      }
      const type = s.attrs.type;
      if (type !== 'get' && type !== 'set') return true; // results and errors to the service: nothing waits for them
      const payload = s.elements()[0];
      let result: Element | undefined;
      try {
        if (ev.to.local || ev.to.resource) throw new StanzaError('service-unavailable');
        if (type === 'get' && payload?.name === 'query' && payload.xmlns === NS.DISCO_INFO && !payload.attrs.node) result = info();
        else if (type === 'get' && payload?.name === 'query' && payload.xmlns === NS.DISCO_ITEMS) result = xml('query', NS.DISCO_ITEMS);
        else if (type === 'get' && payload?.name === 'request' && payload.xmlns === NS_UPLOAD) result = await requestSlot(ev, payload, ev.to.domain, svc.host, svc.slots);
        else throw new StanzaError('service-unavailable');
      } catch (e) {
        if (!(e instanceof StanzaError)) api.log.error({ err: e }, 'upload request failed');
        api.bounce(ev, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
        return true;
      }
      await api.send(xml('iq', s.xmlns, { type: 'result', id: s.attrs.id, from: ev.to.toString(), to: ev.from.toString() }, result));
      return true;
    });

    const sweep = async (): Promise<void> => {
      const now = Date.now();
      for (const { slots } of byService.values()) {
        for (const [id, rec] of await slots.all()) {
          const unused = !rec.uploaded && now - rec.created > o.slotTtl * 1000;
          const old = rec.uploaded && o.expireAfterDays > 0 && now - rec.uploaded > o.expireAfterDays * 86_400_000;
          if (!unused && !old) continue;
          await files.delete(id);
          await slots.remove(id, rec);
          if (old) api.log.info({ slot: id, owner: rec.owner }, 'uploaded file expired');
        }
      }
    };
    api.every(o.sweepInterval * 1000, () => { sweep().catch((e) => api.log.error({ err: e }, 'upload expiry sweep failed')); });
    api.provide('http-upload', { sweep });

    api.hook('account/deleted', async ({ host, username }) => {
      for (const { slots } of byService.values()) {
        for (const [id, rec] of await slots.all()) {
          if (rec.host === host && rec.user === username) { await files.delete(id); await slots.remove(id, rec); }
        }
      }
      return undefined;
    });
  },
});
