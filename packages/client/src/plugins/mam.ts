// Message Archive Management (XEP-0313 v1.1, urn:xmpp:mam:2): query our archive (or a MUC's)
// filtered by JID and time with XEP-0059 Result Set Management paging. Results arrive as
// messages carrying <result queryid/> before the iq result with <fin/>, so each query collects
// the ones with its own queryid, and only from the archive it asked (§5.1.2: anything else
// could be forged by another entity).

import { xml, type Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Client } from '../client.js';
import { newId } from '../iq.js';
import { NS_FORWARD } from './carbons.js';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_RSM = 'http://jabber.org/protocol/rsm';

export interface ArchivedMessage { id: string; stamp: string | undefined; message: Element }
export interface MamQuery {
  /** Archive to query (a MUC room); default our own. */
  archive?: string;
  with?: string;
  start?: Date | string;
  end?: Date | string;
  /** Page size (RSM <max/>). */
  max?: number;
  /** RSM: page after this archive id (forward), or before it ('' = the last page). */
  after?: string;
  before?: string;
  timeout?: number;
}
export interface MamPage { messages: ArchivedMessage[]; complete: boolean; first: string | undefined; last: string | undefined; count: number | undefined }

const iso = (d: Date | string): string => (typeof d === 'string' ? d : d.toISOString());

export function buildQuery(queryid: string, q: MamQuery): Element {
  const fields: [string, string][] = [];
  if (q.with) fields.push(['with', q.with]);
  if (q.start) fields.push(['start', iso(q.start)]);
  if (q.end) fields.push(['end', iso(q.end)]);
  const form = fields.length === 0 ? undefined : xml('x', NS.DATA_FORMS, { type: 'submit' },
    xml('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, xml('value', NS.DATA_FORMS, {}, NS_MAM)),
    ...fields.map(([v, val]) => xml('field', NS.DATA_FORMS, { var: v }, xml('value', NS.DATA_FORMS, {}, val))));
  const rsm = q.max === undefined && q.after === undefined && q.before === undefined ? undefined : xml('set', NS_RSM, {},
    q.max !== undefined ? xml('max', NS_RSM, {}, String(q.max)) : undefined,
    q.after !== undefined ? xml('after', NS_RSM, {}, q.after) : undefined,
    q.before !== undefined ? xml('before', NS_RSM, {}, q.before) : undefined);
  return xml('query', NS_MAM, { queryid }, form, rsm);
}

export class Mam {
  constructor(private readonly client: Client) {}

  async query(q: MamQuery = {}): Promise<MamPage> {
    const queryid = newId();
    const messages: ArchivedMessage[] = [];
    const archive = q.archive ? JID.tryParse(q.archive)?.toString() ?? q.archive : undefined;
    const off = this.client.on('message', (m) => {
      const r = m.getChild('result', NS_MAM);
      if (!r || r.attr('queryid') !== queryid) return;
      const from = m.attr('from');
      const own = this.client.jid?.bareString();
      if (archive ? from !== archive : from !== undefined && from !== own) return;
      const fwd = r.getChild('forwarded', NS_FORWARD);
      const inner = fwd?.getChild('message', NS.CLIENT);
      if (!inner) return;
      messages.push({ id: r.attr('id') ?? '', stamp: fwd!.getChild('delay', NS.DELAY)?.attr('stamp'), message: inner });
    });
    try {
      const res = await this.client.iq('set', q.archive, buildQuery(queryid, q), { timeout: q.timeout });
      const fin = res.getChild('fin', NS_MAM);
      const set = fin?.getChild('set', NS_RSM);
      const count = Number(set?.getChildText('count', NS_RSM));
      return {
        messages, complete: fin?.attr('complete') === 'true',
        first: set?.getChildText('first', NS_RSM), last: set?.getChildText('last', NS_RSM),
        count: Number.isFinite(count) ? count : undefined,
      };
    } finally { off(); }
  }

  /** Page backwards through history from the newest message: yields one page at a time. */
  async *history(q: Omit<MamQuery, 'before' | 'after'> & { max: number }): AsyncGenerator<MamPage> {
    let before = '';
    for (;;) {
      const page = await this.query({ ...q, before });
      yield page;
      if (page.complete || !page.first || page.messages.length === 0) return;
      before = page.first;
    }
  }
}

export const mam = (client: Client): Mam => new Mam(client);
