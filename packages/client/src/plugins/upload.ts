// HTTP File Upload (XEP-0363 v1.1): find the upload service (disco, §4), request a slot
// (§5: filename, size, content-type), then PUT the bytes with exactly the headers the service
// allows (§5.1: Authorization, Cookie, Expires only) and share the GET URL.

import { xml } from '@magpie/core/xml/element';
import type { Client } from '../client.js';
import { XmppError } from '../errors.js';
import { disco } from './disco.js';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';
const ALLOWED_HEADERS = new Set(['authorization', 'cookie', 'expires']);

export interface Slot { put: string; get: string; headers: Record<string, string> }

export class Upload {
  service: string | undefined;
  /** Largest file the service accepts, when it says (disco x-data max-file-size). */
  maxSize: number | undefined;

  /** The fetch used for the PUT (default the global one). */
  fetchFn: typeof fetch | undefined;

  constructor(private readonly client: Client) {}

  async findService(): Promise<string | undefined> {
    if (this.service) return this.service;
    const d = this.client.use(disco);
    this.service = await d.findService(NS_UPLOAD);
    if (this.service) {
      const info = await d.info(this.service);
      for (const form of info.forms) {
        const f = form.getChildren('field').find((x) => x.attr('var') === 'max-file-size');
        const n = Number(f?.getChildText('value'));
        if (Number.isFinite(n) && n > 0) this.maxSize = n;
      }
    }
    return this.service;
  }

  async requestSlot(filename: string, size: number, contentType?: string): Promise<Slot> {
    const service = await this.findService();
    if (!service) throw XmppError.of('feature-not-implemented', 'no HTTP upload service');
    const res = await this.client.iq('get', service, xml('request', NS_UPLOAD, { filename, size, 'content-type': contentType }));
    const slot = res.getChild('slot', NS_UPLOAD);
    const put = slot?.getChild('put', NS_UPLOAD);
    const get = slot?.getChild('get', NS_UPLOAD)?.attr('url');
    if (!put?.attr('url') || !get) throw XmppError.of('undefined-condition', 'slot without put/get URL');
    const headers: Record<string, string> = {};
    for (const h of put.getChildren('header', NS_UPLOAD)) {
      const name = (h.attr('name') ?? '').toLowerCase();
      // §5.1: other headers must be ignored; newlines would smuggle extra headers.
      if (ALLOWED_HEADERS.has(name) && !/[\r\n]/.test(h.text())) headers[name] = h.text();
    }
    return { put: put.attr('url')!, get, headers };
  }

  /** Request a slot and PUT `data`; resolves with the URL to share. */
  async upload(filename: string, data: Uint8Array | Blob, contentType = 'application/octet-stream'): Promise<string> {
    const size = data instanceof Uint8Array ? data.length : data.size;
    const slot = await this.requestSlot(filename, size, contentType);
    const res = await (this.fetchFn ?? fetch)(slot.put, { method: 'PUT', body: data as Parameters<typeof fetch>[1] extends infer I ? I extends { body?: infer B } ? B : never : never, headers: { ...slot.headers, 'content-type': contentType } });
    if (!res.ok) throw new Error(`upload PUT failed: HTTP ${res.status}`);
    return slot.get;
  }
}

export const upload = (client: Client): Upload => new Upload(client);
