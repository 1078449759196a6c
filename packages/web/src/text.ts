// Pure helpers for showing messages and presence: links in a body (only http(s) URLs become
// links, so no javascript: URL can be clicked), which links are images to show inline (https
// only: an http image on an https page is mixed content, and the page's CSP allows https), and
// labels for presence (RFC 6121 §4.7.2.1 <show/> values).

import type { Show } from './state.js';

export type Segment = { text: string } | { url: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
// Punctuation that ends a sentence rather than the URL ("see https://x.y/a.png.").
const TRAILING = /[.,;:!?)\]]+$/;

export function splitLinks(body: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of body.matchAll(URL_RE)) {
    let url = m[0];
    const trail = TRAILING.exec(url)?.[0] ?? '';
    if (trail) url = url.slice(0, -trail.length);
    const start = m.index;
    if (start > last) out.push({ text: body.slice(last, start) });
    out.push({ url });
    last = start + url.length;
  }
  if (last < body.length) out.push({ text: body.slice(last) });
  return out;
}

const IMAGE_EXT = /\.(png|jpe?g|gif|webp|avif)$/i;

/** An https URL whose path names an image file. */
export function isImageUrl(url: string): boolean {
  let u: URL;
  try { u = new URL(url); } catch { return false; }
  if (u.protocol !== 'https:') return false;
  let path: string;
  try { path = decodeURIComponent(u.pathname); } catch { path = u.pathname; }
  return IMAGE_EXT.test(path);
}

/** Images to show under a message: the attached URL and image links in the body, once each. */
export function inlineImages(body: string, oob?: string): string[] {
  const urls = [...(oob ? [oob] : []), ...splitLinks(body).flatMap((s) => ('url' in s ? [s.url] : []))];
  return [...new Set(urls.filter(isImageUrl))];
}

export const SHOW_LABEL: Record<Show, string> = {
  chat: 'Free to chat', available: 'Online', away: 'Away', xa: 'Away for long', dnd: 'Do not disturb', offline: 'Offline',
};

export function bare(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

export function resourceOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? '' : jid.slice(slash + 1);
}

/** A plausible bare JID typed by a user (the library's JID parser validates it fully). */
export function looksLikeJid(s: string): boolean {
  return /^[^@/\s]+@[^@/\s]+\.?[^@/\s]*$/.test(s.trim());
}

export function timeLabel(stamp: number, now = Date.now()): string {
  const d = new Date(stamp);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return now - stamp < 20 * 3600_000 ? hm : `${d.toLocaleDateString()} ${hm}`;
}
