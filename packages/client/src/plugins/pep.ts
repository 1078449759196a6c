// PEP (XEP-0163 v1.2) over PubSub (XEP-0060 §7.1 publish, §6.5 items, §7.2 retract): generic
// publish/fetch on our own account, event notifications (+notify features), User Avatar
// (XEP-0084 v1.1: data node with the base64 image, metadata node with its SHA-1 id) and
// Bookmarks 2 (XEP-0402 v1.1: one item per room in urn:xmpp:bookmarks:1, published with
// persist_items/max_items/access_model=whitelist publish-options).

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { webCrypto } from '@magpie/core/sasl/crypto';
import { toBase64, fromBase64, toHex } from '@magpie/core/sasl/encoding';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_AVATAR_DATA = 'urn:xmpp:avatar:data';
export const NS_AVATAR_METADATA = 'urn:xmpp:avatar:metadata';
export const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';

export interface PepEvents { [k: string]: unknown[]; item: [info: { from: string; node: string; id: string | undefined; payload: Element | undefined; retracted: boolean }] }
export interface Bookmark { jid: string; name?: string; autojoin?: boolean; nick?: string; password?: string }
export interface AvatarInfo { id: string; type: string; bytes: number; width?: number; height?: number }

function publishOptions(opts: Record<string, string>): Element {
  return xml('publish-options', NS_PUBSUB, {}, xml('x', NS.DATA_FORMS, { type: 'submit' },
    xml('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, xml('value', NS.DATA_FORMS, {}, 'http://jabber.org/protocol/pubsub#publish-options')),
    ...Object.entries(opts).map(([k, v]) => xml('field', NS.DATA_FORMS, { var: 'pubsub#' + k }, xml('value', NS.DATA_FORMS, {}, v)))));
}

export class Pep extends Emitter<PepEvents> {
  constructor(private readonly client: Client) {
    super();
    client.on('message', (m) => this.onEvent(m));
  }

  /** Ask the server to send us notifications for `node` (XEP-0163 §4: +notify in our caps). */
  notify(node: string): void { this.client.features.add(node + '+notify'); }

  async publish(node: string, payload: Element, o: { id?: string; options?: Record<string, string> } = {}): Promise<string | undefined> {
    const res = await this.client.iq('set', undefined, xml('pubsub', NS_PUBSUB, {},
      xml('publish', NS_PUBSUB, { node }, xml('item', NS_PUBSUB, { id: o.id }, payload)),
      o.options ? publishOptions(o.options) : undefined));
    return res.getChild('pubsub', NS_PUBSUB)?.getChild('publish', NS_PUBSUB)?.getChild('item', NS_PUBSUB)?.attr('id') ?? o.id;
  }

  async items(jid: string | undefined, node: string, o: { id?: string; max?: number } = {}): Promise<{ id: string | undefined; payload: Element | undefined }[]> {
    const res = await this.client.iq('get', jid, xml('pubsub', NS_PUBSUB, {},
      xml('items', NS_PUBSUB, { node, max_items: o.max }, o.id ? xml('item', NS_PUBSUB, { id: o.id }) : undefined)));
    return (res.getChild('pubsub', NS_PUBSUB)?.getChild('items', NS_PUBSUB)?.getChildren('item', NS_PUBSUB) ?? [])
      .map((i) => ({ id: i.attr('id'), payload: i.elements()[0] }));
  }

  async retract(node: string, id: string): Promise<void> {
    await this.client.iq('set', undefined, xml('pubsub', NS_PUBSUB, {}, xml('retract', NS_PUBSUB, { node, notify: 'true' }, xml('item', NS_PUBSUB, { id }))));
  }

  // ---- XEP-0084 User Avatar ----

  /** Publish an image: data first, then metadata (§4.1-§4.2); returns its id (hex SHA-1). */
  async publishAvatar(data: Uint8Array, type: string, dims: { width?: number; height?: number } = {}): Promise<string> {
    const id = toHex(await webCrypto.digest('SHA-1', data));
    await this.publish(NS_AVATAR_DATA, xml('data', NS_AVATAR_DATA, {}, toBase64(data)), { id });
    await this.publish(NS_AVATAR_METADATA, xml('metadata', NS_AVATAR_METADATA, {},
      xml('info', NS_AVATAR_METADATA, { id, type, bytes: data.length, width: dims.width, height: dims.height })), { id });
    return id;
  }

  async avatarMetadata(jid: string): Promise<AvatarInfo | undefined> {
    const [item] = await this.items(jid, NS_AVATAR_METADATA, { max: 1 });
    const info = item?.payload?.getChild('info', NS_AVATAR_METADATA);
    if (!info) return undefined;
    return { id: info.attr('id') ?? '', type: info.attr('type') ?? '', bytes: Number(info.attr('bytes')), width: num(info.attr('width')), height: num(info.attr('height')) };
  }

  /** Fetch avatar bytes by id, checking they hash to that id (§4.1). */
  async avatarData(jid: string, id: string): Promise<Uint8Array | undefined> {
    const [item] = await this.items(jid, NS_AVATAR_DATA, { id });
    const bytes = item?.payload ? fromBase64(item.payload.text().replace(/\s+/g, '')) : undefined;
    if (!bytes || toHex(await webCrypto.digest('SHA-1', bytes)) !== id) return undefined;
    return bytes;
  }

  // ---- XEP-0402 Bookmarks ----

  async bookmarks(): Promise<Bookmark[]> {
    const items = await this.items(undefined, NS_BOOKMARKS);
    return items.filter((i) => i.id && i.payload?.name === 'conference').map((i) => parseBookmark(i.id!, i.payload!));
  }

  async addBookmark(b: Bookmark): Promise<void> {
    await this.publish(NS_BOOKMARKS, xml('conference', NS_BOOKMARKS, { name: b.name, autojoin: b.autojoin ? 'true' : undefined },
      b.nick ? xml('nick', NS_BOOKMARKS, {}, b.nick) : undefined, b.password ? xml('password', NS_BOOKMARKS, {}, b.password) : undefined),
    { id: b.jid, options: { persist_items: 'true', max_items: 'max', send_last_published_item: 'never', access_model: 'whitelist' } });
  }

  async removeBookmark(jid: string): Promise<void> { await this.retract(NS_BOOKMARKS, jid); }

  private onEvent(m: Element): void {
    const ev = m.getChild('event', NS_PUBSUB_EVENT);
    const items = ev?.getChild('items', NS_PUBSUB_EVENT);
    if (!items) return;
    const node = items.attr('node') ?? '';
    const from = m.attr('from') ?? this.client.jid?.bareString() ?? '';
    for (const i of items.elements()) {
      if (i.name === 'item') this.emit('item', { from, node, id: i.attr('id'), payload: i.elements()[0], retracted: false });
      else if (i.name === 'retract') this.emit('item', { from, node, id: i.attr('id'), payload: undefined, retracted: true });
    }
  }
}

export function parseBookmark(jid: string, c: Element): Bookmark {
  return { jid, name: c.attr('name'), autojoin: c.attr('autojoin') === 'true' || c.attr('autojoin') === '1', nick: c.getChildText('nick'), password: c.getChildText('password') };
}

function num(s: string | undefined): number | undefined { const n = Number(s); return s !== undefined && Number.isFinite(n) ? n : undefined; }

export const pep = (client: Client): Pep => new Pep(client);
