// Service Discovery (XEP-0030 v2.5): answer disco#info about ourselves from client.features and
// our identity (also for the caps node#ver, XEP-0115 §6.2), query other entities' info and items,
// and advertise Entity Capabilities (XEP-0115) in every availability presence.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Client } from '../client.js';
import { XmppError } from '../errors.js';
import { capsHash, type Identity } from './caps.js';
import { Presence, presence } from './presence.js';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

export interface DiscoInfo { identities: Identity[]; features: string[]; forms: Element[] }
export interface DiscoItem { jid: string; node: string | undefined; name: string | undefined }

export class Disco {
  identity: Identity = { category: 'client', type: 'pc', name: 'Magpie' };
  /** XEP-0115 node: a URL naming this software. */
  capsNode = 'https://magpie.example/client';
  private ver: string | undefined;
  private verFor = '';

  constructor(private readonly client: Client) {
    client.features.add(NS.DISCO_INFO);
    client.features.add(NS_CAPS);
    client.handleIq('get', NS.DISCO_INFO, 'query', (iq) => this.answerInfo(iq));
    client.handleIq('get', NS.DISCO_ITEMS, 'query', (iq) => xml('query', NS.DISCO_ITEMS, { node: iq.getChild('query', NS.DISCO_ITEMS)?.attr('node') }));
    const pres: Presence = client.use(presence);
    // The hash is async (WebCrypto); compute it before presence goes out on each new session.
    void this.caps();
    client.on('online', () => { void this.caps(); });
    pres.decorators.push((p) => {
      if (p.attr('type') !== undefined || !this.ver) return;
      p.append(xml('c', NS_CAPS, { hash: 'sha-1', node: this.capsNode, ver: this.ver }));
    });
  }

  /** Our current caps verification string (recomputed when features change). */
  async caps(): Promise<string> {
    const key = [...this.client.features].sort().join('\n') + '\n' + JSON.stringify(this.identity);
    if (this.ver === undefined || key !== this.verFor) {
      this.ver = await capsHash([this.identity], [...this.client.features]);
      this.verFor = key;
    }
    return this.ver;
  }

  async info(jid: string | undefined, node?: string): Promise<DiscoInfo> {
    const res = await this.client.iq('get', jid, xml('query', NS.DISCO_INFO, { node }));
    const q = res.getChild('query', NS.DISCO_INFO);
    return {
      identities: (q?.getChildren('identity') ?? []).map((i) => ({ category: i.attr('category') ?? '', type: i.attr('type') ?? '', name: i.attr('name'), lang: i.attr('xml:lang') })),
      features: (q?.getChildren('feature') ?? []).map((f) => f.attr('var') ?? '').filter(Boolean),
      forms: q?.getChildren('x', NS.DATA_FORMS) ?? [],
    };
  }

  async items(jid: string | undefined, node?: string): Promise<DiscoItem[]> {
    const res = await this.client.iq('get', jid, xml('query', NS.DISCO_ITEMS, { node }));
    return (res.getChild('query', NS.DISCO_ITEMS)?.getChildren('item') ?? []).map((i) => ({ jid: i.attr('jid') ?? '', node: i.attr('node'), name: i.attr('name') }));
  }

  /** The first entity among the server and its items that has `feature` (upload service, MUC…). */
  async findService(feature: string): Promise<string | undefined> {
    const domain = this.client.domain;
    if ((await this.info(domain)).features.includes(feature)) return domain;
    for (const item of await this.items(domain)) {
      try { if ((await this.info(item.jid)).features.includes(feature)) return item.jid; } catch { /* an item that does not answer */ }
    }
    return undefined;
  }

  private async answerInfo(iq: Element): Promise<Element> {
    const node = iq.getChild('query', NS.DISCO_INFO)?.attr('node');
    const ver = await this.caps();
    if (node !== undefined && node !== `${this.capsNode}#${ver}`) throw XmppError.of('item-not-found');
    const i = this.identity;
    return xml('query', NS.DISCO_INFO, { node },
      xml('identity', NS.DISCO_INFO, { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang }),
      ...[...this.client.features].sort().map((f) => xml('feature', NS.DISCO_INFO, { var: f })));
  }
}

export const disco = (client: Client): Disco => new Disco(client);
