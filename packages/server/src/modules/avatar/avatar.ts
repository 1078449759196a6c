// User avatars: PEP avatars (XEP-0084 1.1.4: 'urn:xmpp:avatar:data' and
// 'urn:xmpp:avatar:metadata') and vCard avatars (XEP-0153 1.1) kept in step by the server
// (XEP-0398 0.2.1, 'urn:xmpp:pep-vcard-conversion:0'):
// - §3.1 PEP → vCard: a metadata publish names an image (the <info/> without a url) whose data
//   item is looked up, its SHA-1 checked against the id, and stored as the vCard's PHOTO; only
//   when the data node's access model is 'open' (§6: a vCard is public), unless configured;
//   an empty <metadata/> removes the PHOTO;
// - §3.2 vCard → PEP: a vCard set with a PHOTO publishes the data item, then the metadata item;
// - §4: the hash goes into the user's available presence (broadcast and directed) unless the
//   client sent an empty <photo/> (not ready to advertise); an <x/> without <photo/> is filled in.
// Each direction writes only when the other side differs, so the echo settles at once.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { xml, type Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { defineModule } from '../module.js';
import type { StanzaEvent } from '../../hooks/events.js';
import { PEP, type PepService } from '../pubsub/pubsub.js';
import { payloadOf } from '../pubsub/notify.js';
import { NS_VCARD, VCARD, type VCardService } from '../vcard/vcard.js';

export const NS_DATA = 'urn:xmpp:avatar:data';
export const NS_METADATA = 'urn:xmpp:avatar:metadata';
const NS_UPDATE = 'vcard-temp:x:update';
const NS_CONVERSION = 'urn:xmpp:pep-vcard-conversion:0';

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');
const decode = (b64: string): Buffer => Buffer.from(b64.replace(/\s+/g, ''), 'base64');

/** The PHOTO of a vCard: its image type and bytes (BINVAL only; EXTVAL photos are not converted). */
function photoOf(v: Element | undefined): { type: string; data: Buffer } | undefined {
  const p = v?.getChild('PHOTO', NS_VCARD);
  const bin = p?.getChildText('BINVAL', NS_VCARD);
  if (!bin) return undefined;
  const data = decode(bin);
  return data.length ? { type: p!.getChildText('TYPE', NS_VCARD)?.trim() || 'image/png', data } : undefined;
}

export default defineModule({
  manifest: {
    name: 'avatar',
    description: 'PEP avatars and vCard avatars converted into each other; the avatar hash in presence',
    specs: [
      { spec: 'XEP-0084', version: '1.1.4', status: 'complete', notes: 'PEP nodes; the server converts to and from the vCard PHOTO' },
      { spec: 'XEP-0153', version: '1.1', status: 'complete', notes: 'the server puts the hash into available presence (XEP-0398 §4)' },
      { spec: 'XEP-0398', version: '0.2.1', status: 'complete', notes: 'PEP→vCard only from an open data node by default (§6); an empty metadata removes the PHOTO' },
    ],
    options: z.object({
      /** Copy a PEP avatar to the (public) vCard only when the data node's access model is 'open' (XEP-0398 §6). */
      requireOpenAccess: z.boolean().default(true),
      /** Add the avatar hash to local users' available presence (XEP-0398 §4). */
      presenceHash: z.boolean().default(true),
    }).strict(),
    depends: ['pubsub', 'vcard'],
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const pep = api.service<PepService>(PEP);
    const vcards = api.service<VCardService>(VCARD);
    if (!pep || !vcards) throw new Error('avatar: the pep and vcard services are needed');
    if (!pep.enabled) { api.log.info('PEP is disabled: no avatar conversion'); return; }
    api.discoFeature(NS_CONVERSION, 'account');

    // The current hash per account ('' for none), so presence does not read the vCard each time.
    const hashes = new Map<string, string>();
    const hashOf = async (host: string, user: string): Promise<string> => {
      const key = `${user}@${host}`;
      let h = hashes.get(key);
      if (h === undefined) {
        const p = photoOf(await vcards.get(host, user));
        h = p ? sha1(p.data) : '';
        if (hashes.size > 100_000) hashes.clear();
        hashes.set(key, h);
      }
      return h;
    };

    // §3.1: PEP → vCard.
    pep.onEvent(async (owner, node, kind, items) => {
      if (node !== NS_METADATA || kind !== 'items') return;
      const meta = items[0] && payloadOf(items[0]);
      if (!meta || meta.name !== 'metadata' || meta.xmlns !== NS_METADATA) return;
      const vcard = (await vcards.get(owner.domain, owner.local)) ?? xml('vCard', NS_VCARD);
      const info = meta.getChildren('info', NS_METADATA).find((i) => !i.attr('url'));
      if (!info) {
        if (meta.getChildren('info', NS_METADATA).length > 0 || !vcard.getChild('PHOTO', NS_VCARD)) return;
        vcard.removeChildren((c) => c.name === 'PHOTO');
        await vcards.set(owner.domain, owner.local, vcard);
        return;
      }
      const id = info.attr('id') ?? '';
      const current = photoOf(vcard);
      if (current && sha1(current.data) === id) return;
      const svc = pep.of(owner);
      const rec = await svc.record(NS_DATA);
      if (!rec || (o.requireOpenAccess && rec.config.access_model !== 'open')) return;
      const dataItem = (await svc.itemsOf(NS_DATA)).find((i) => i.id === id);
      const data = dataItem && payloadOf(dataItem);
      if (!data || data.name !== 'data' || data.xmlns !== NS_DATA) return;
      const bytes = decode(data.text());
      if (sha1(bytes) !== id) { api.log.info({ owner: owner.toString(), id }, 'avatar data does not match its id; not copied to the vCard'); return; }
      vcard.removeChildren((c) => c.name === 'PHOTO');
      vcard.append(xml('PHOTO', NS_VCARD, {}, xml('TYPE', NS_VCARD, {}, info.attr('type') ?? 'image/png'), xml('BINVAL', NS_VCARD, {}, bytes.toString('base64'))));
      await vcards.set(owner.domain, owner.local, vcard);
    });

    // §3.2: vCard → PEP (and the cached hash).
    vcards.onSet(async (host, user, vcard) => {
      const photo = photoOf(vcard);
      const id = photo ? sha1(photo.data) : '';
      hashes.set(`${user}@${host}`, id);
      if (!photo) return;
      const owner = JID.of(user, host);
      const svc = pep.of(owner);
      if (await svc.record(NS_METADATA)) {
        const last = (await svc.itemsOf(NS_METADATA)).at(-1);
        if (last?.id === id) return;
      }
      const open = new Map([['pubsub#access_model', ['open']]]);
      await svc.publish(NS_DATA, owner, id, xml('data', NS_DATA, {}, photo.data.toString('base64')).toString(), (await svc.record(NS_DATA)) ? undefined : open);
      const meta = xml('metadata', NS_METADATA, {}, xml('info', NS_METADATA, { id, bytes: photo.data.length, type: photo.type }));
      await svc.publish(NS_METADATA, owner, id, meta.toString(), (await svc.record(NS_METADATA)) ? undefined : open);
    });

    // §4: the hash in available presence, broadcast or directed.
    if (o.presenceHash) {
      const stamp = async (ev: StanzaEvent): Promise<undefined> => {
        const p = ev.stanza;
        if (!ev.session || p.attrs.type !== undefined) return undefined;
        const x = p.getChild('x', NS_UPDATE);
        const photo = x?.getChild('photo', NS_UPDATE);
        if (photo && photo.text() === '') return undefined; // the client is not ready to advertise
        if (photo) return undefined; // the client's own hash (§4: MAY be overwritten; left alone)
        const h = await hashOf(ev.from.domain, ev.from.local);
        if (!h) return undefined;
        if (x) x.c('photo').t(h);
        else p.append(xml('x', NS_UPDATE, {}, xml('photo', NS_UPDATE, {}, h)));
        return undefined;
      };
      for (const t of ['bare', 'full', 'host'] as const) api.hook(`pre-presence/${t}`, stamp, 60);
    }
  },
});
