// Stream headers and closing (RFC 6120 §4.2, §4.4, §4.7). The header is written by hand because
// it is the one element that stays open; attribute values are escaped like any other.

import { escapeAttr } from '@magpie/core/xml/escape';
import { NS } from '@magpie/core/protocol/namespaces';

export interface HeaderAttrs { id: string; from?: string; to?: string; lang: string; contentNs: string; extraNs?: Record<string, string> }

export function openStreamTag(a: HeaderAttrs): string {
  let s = `<?xml version='1.0'?><stream:stream xmlns='${a.contentNs}' xmlns:stream='${NS.STREAM}'`;
  for (const [p, uri] of Object.entries(a.extraNs ?? {})) s += ` xmlns:${p}='${escapeAttr(uri)}'`;
  s += ` id='${escapeAttr(a.id)}'`;
  if (a.from) s += ` from='${escapeAttr(a.from)}'`;
  if (a.to) s += ` to='${escapeAttr(a.to)}'`;
  return s + ` version='1.0' xml:lang='${escapeAttr(a.lang)}'>`;
}

export const CLOSE_STREAM = '</stream:stream>';

/** RFC 6120 §4.7.4: version is major.minor; we speak 1.0 and accept any 1.x. */
export function parseVersion(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,6})\.(\d{1,6})$/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

// xml:lang values are BCP 47 language tags (RFC 6120 §4.7.4, RFC 5646); a loose syntax check.
const LANG_RE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;
export function validLang(s: string): boolean { return LANG_RE.test(s); }
