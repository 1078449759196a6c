// The offline queue of one account (XEP-0160 §3, RFC 6121 §8.5.2.1.1): durable storage in the
// archive store 'offline' (one item per message, `with` = the sender's bare JID, `when` = the
// time the server received it), a per-account quota, and in-order delivery to a session.
//
// Delivery guarantee. A message leaves storage only after it was written to a session that was
// still open and available when it was written; messages not yet written stay stored for the
// next available presence. Each batch is read (not deleted) first, written synchronously, then
// exactly the written ids are deleted. This is deliberately not `archive.take`: take deletes
// before the write, and the session can close while take's database round trip is in flight,
// which would leave the taken messages in memory only (lost on a crash, or re-appended after
// newer messages, out of order). With read-write-delete the only window is between the write
// and the delete: a crash there delivers that batch again at the next login (at-least-once),
// never loses it. Two resources becoming available together cannot both deliver a message: the
// read-write-delete of an account runs under a per-account lock, the storage's
// (api.stores.lock), so it also holds between cluster nodes (issue #8). "Written" means handed
// to the session's output (TCP gives no receipt without XEP-0198); a write that makes the session close (its
// outbound buffer overflowed) is not counted, so that message is delivered again next time.

import { parseFragment } from '@magpie/core/xml/parser';
import type { Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import type { ModuleApi } from '../module.js';
import type { ClientSession } from '../../session/session.js';
import { refuses } from '../delivery/refusal.js';
import { withDelay } from './offline-policy.js';

export const STORE = 'offline';

export interface OfflineOptions {
  maxMessages: number;
  maxBytes: number;
  batchSize: number;
}

interface Usage { bytes: number }

export class OfflineQueue {
  private readonly usage;

  constructor(private readonly api: ModuleApi<OfflineOptions>) {
    this.usage = api.stores.kv(STORE);
  }

  /** Store for later delivery; false when the account's quota is full (the caller bounces). */
  store(host: string, user: string, stanza: Element, from: JID): Promise<boolean> {
    const payload = stanza.toString();
    const bytes = Buffer.byteLength(payload);
    const { archive } = this.api.stores;
    const { maxMessages, maxBytes } = this.api.options;
    return this.api.stores.lock(host, user, async () => {
      const count = await archive.count(host, user, STORE);
      // An empty queue resets the byte count, so any drift (a crash between the two writes
      // below) is forgotten the next time the queue drains.
      const used = count === 0 ? 0 : ((await this.usage.get<Usage>(host, user))?.bytes ?? 0);
      if (count >= maxMessages || used + bytes > maxBytes) return false;
      // Count first, then append: a crash in between over-counts (refuses early), never
      // lets the queue exceed its quota.
      await this.usage.set(host, user, { bytes: used + bytes });
      try {
        await archive.append(host, user, STORE, { when: Date.now(), with: from.bareString(), payload, meta: { bytes } });
      } catch (e) {
        await this.usage.set(host, user, { bytes: used }).catch(() => {});
        throw e;
      }
      return true;
    });
  }

  count(host: string, user: string): Promise<number> { return this.api.stores.archive.count(host, user, STORE); }

  /**
   * Deliver everything stored to `session`, oldest first, while `eligible()` holds (the session
   * is open and available with a non-negative priority). Returns how many were written.
   */
  deliver(session: ClientSession, eligible: () => boolean): Promise<number> {
    const { host, username: user } = session;
    const { archive } = this.api.stores;
    return this.api.stores.lock(host, user, async () => {
      let written = 0;
      while (eligible()) {
        const page = await archive.query(host, user, STORE, { limit: this.api.options.batchSize });
        if (page.items.length === 0) break;
        // Parse and consult the privacy rules before writing anything, so that the write loop
        // below is synchronous: nothing can close the session between the check and the write.
        const prepared = await Promise.all(page.items.map(async (it) => {
          let el: Element | undefined;
          try { el = parseFragment(it.payload); } catch (e) {
            this.api.log.warn({ err: e, id: it.id }, 'unreadable offline message dropped');
          }
          // Nothing from a JID blocked since the message was stored (XEP-0191 §3.3), nor from
          // one this session's privacy list refuses (XEP-0016 §2.2: its active list, else the
          // default list): storage must not get round a list. Such a message is dropped.
          const from = el && JID.tryParse(el.attrs.from ?? it.with);
          const refused = el && from && await refuses(this.api, { stanza: el, origin: { kind: 'local' }, from, to: session.jid.bare }, session);
          return { it, el: refused ? undefined : el, bytes: Number((it.meta as { bytes?: number } | undefined)?.bytes ?? it.payload.length) };
        }));
        const done: string[] = [];
        let freed = 0;
        for (const p of prepared) {
          if (!eligible()) break;
          if (p.el) {
            session.send(withDelay(p.el, host, p.it.when));
            if (!eligible()) break; // that write closed the session: keep the message
            written++;
          }
          done.push(p.it.id);
          freed += p.bytes;
        }
        if (done.length) await this.forget(host, user, done, freed);
        if (done.length < prepared.length || page.complete) break;
        // Let the socket drain and other sessions run between rounds (an embedded database
        // answers without yielding to the event loop).
        await new Promise<void>((r) => setImmediate(r));
      }
      if (written) this.api.metric('delivered').inc(written);
      return written;
    });
  }

  private async forget(host: string, user: string, ids: string[], freed: number): Promise<void> {
    const { archive } = this.api.stores;
    await archive.delete(host, user, STORE, { ids });
    const left = await archive.count(host, user, STORE);
    const used = left === 0 ? 0 : Math.max(0, ((await this.usage.get<Usage>(host, user))?.bytes ?? 0) - freed);
    await this.usage.set(host, user, left === 0 ? undefined : { bytes: used });
  }

}
