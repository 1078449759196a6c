// How fast a BOSH client may send (XEP-0124 §11 overactivity, §12 polling sessions): no more
// unanswered requests than `requests` (a pause or terminate request may use one more), and no two
// empty requests closer together than `polling` seconds when the first was answered (or is about
// to be) without payloads before its `wait` ran out. Pure rules; the session keeps the state.

import type { BoshRequest } from './body.js';

/** The previous in-order request and how it was answered. */
export interface LastRequest { empty: boolean; at: number; answered: 'no' | 'payload' | 'timeout' | 'early' }

/** Carries nothing for the stream: no payloads, no restart, pause or terminate. */
export function isEmptyRequest(req: BoshRequest): boolean {
  return req.payloads.length === 0 && !req.restart && !req.terminate && req.pause === undefined;
}

/** `unanswered`: requests received and not yet answered, this one included. */
export function overactive(unanswered: number, requests: number, req: BoshRequest): boolean {
  const extra = req.terminate || req.pause !== undefined ? 1 : 0;
  return unanswered > requests + extra;
}

export function pollingTooFast(prev: LastRequest | undefined, empty: boolean, at: number, pollingSeconds: number): boolean {
  return empty && !!prev?.empty && (prev.answered === 'no' || prev.answered === 'early') && at - prev.at < pollingSeconds * 1000;
}
