// Reading a MAM query (XEP-0313 1.1 §4): the filter form (§4.1: with, start, end, before-id,
// after-id, ids — FORM_TYPE urn:xmpp:mam:2), RSM paging (§4.3, XEP-0059) and <flip-page/>
// (§4.3.4), turned into one store query. Errors are the XEP's: a malformed value is bad-request,
// an unknown field feature-not-implemented (§4.1.6 "If a client includes a form field that the
// server does not recognise"); unknown ids are item-not-found, found by the store or by the
// caller's existence check. A requested page larger than the configured maximum is capped
// (§4.3.1: the server "MAY simply return its limited results").

import { JID } from '@magpie/core/jid/jid';
import { Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { buildDataForm, DataFormError, parseDataForm, singleValue, type DataForm } from '@magpie/core/protocol/data-form';
import { NS_RSM, parseRsm, RsmError } from '@magpie/core/protocol/rsm';
import { parseDateTime } from '@magpie/core/protocol/datetime';
import type { ArchiveQuery } from '../../storage/storage.js';
import { NS_MAM } from './policy.js';

export interface Limits { defaultPageSize: number; maxPageSize: number; maxIds: number; maxIndex: number }

export interface ParsedQuery {
  queryid?: string;
  /** The store query, minus the RSM/form after/before pair when both were given (see `anchors`). */
  q: ArchiveQuery;
  /** Ids that must all exist (ids field, and after/before ids pairs to order). */
  ids?: string[];
  /** Both an RSM and a form bound in one direction: the caller keeps the tighter of the two. */
  anchors?: { after?: string[]; before?: string[] };
  flip: boolean;
  /** The page starts at the beginning of the filtered set (RSM index 0 is known). */
  fromStart: boolean;
  /** XEP-0059 §2.5: the page starts at this index of the filtered set (> 0). */
  index?: number;
}

/** The form a client fetches to learn the fields (§4.1.6). */
export function queryForm(): Element {
  return buildDataForm('form', NS_MAM, [
    { var: 'with', type: 'jid-single' },
    { var: 'start', type: 'text-single' },
    { var: 'end', type: 'text-single' },
    { var: 'before-id', type: 'text-single' },
    { var: 'after-id', type: 'text-single' },
    {
      var: 'ids', type: 'list-multi',
      // XEP-0122: the list is open (the server never lists every id).
      extra: [new Element('validate', 'http://jabber.org/protocol/xdata-validate', { datatype: 'xs:string' }, [new Element('open', 'http://jabber.org/protocol/xdata-validate')])],
    },
  ]);
}

const KNOWN = new Set(['with', 'start', 'end', 'before-id', 'after-id', 'ids']);

function readForm(query: Element): DataForm | undefined {
  const x = query.getChild('x', NS.DATA_FORMS);
  if (!x) return undefined;
  let form: DataForm;
  try { form = parseDataForm(x); } catch (e) { throw new StanzaError('bad-request', (e as DataFormError).message); }
  if (form.type !== 'submit') throw new StanzaError('bad-request', "the query form must be of type 'submit'");
  if (form.formType !== undefined && form.formType !== NS_MAM) throw new StanzaError('bad-request', `FORM_TYPE must be ${NS_MAM}`);
  for (const name of form.fields.keys()) {
    if (!KNOWN.has(name)) throw new StanzaError('feature-not-implemented', `unsupported field '${name}'`);
  }
  return form;
}

function field(form: DataForm | undefined, name: string): string | undefined {
  if (!form) return undefined;
  try {
    const v = singleValue(form, name);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  } catch (e) { throw new StanzaError('bad-request', (e as Error).message); }
}

function time(form: DataForm | undefined, name: string): number | undefined {
  const v = field(form, name);
  if (v === undefined) return undefined;
  const t = parseDateTime(v);
  if (t === undefined) throw new StanzaError('bad-request', `'${name}' is not a XEP-0082 DateTime`);
  return t;
}

export function parseQuery(query: Element, limits: Limits): ParsedQuery {
  const form = readForm(query);
  const q: ArchiveQuery = {};
  const out: ParsedQuery = { q, flip: query.getChild('flip-page') !== undefined, fromStart: false };
  if (query.attrs.queryid !== undefined) out.queryid = query.attrs.queryid;

  const w = field(form, 'with');
  if (w !== undefined) {
    const jid = JID.tryParse(w);
    if (!jid) throw new StanzaError('bad-request', "'with' is not a JID");
    // §4.1.1: a bare JID matches every resource; a full JID only that one.
    q.with = jid.bareString();
    if (!jid.isBare) q.withResource = jid.resource;
  }
  const start = time(form, 'start');
  const end = time(form, 'end');
  if (start !== undefined) q.start = start;
  if (end !== undefined) q.end = end;

  const idsField = form?.fields.get('ids');
  if (idsField) {
    const ids = [...new Set(idsField.values.map((v) => v.trim()).filter((v) => v !== ''))];
    if (ids.length > limits.maxIds) throw new StanzaError('policy-violation', `at most ${limits.maxIds} ids per query`);
    q.ids = ids;
    out.ids = ids;
  }

  let rsm;
  try { rsm = parseRsm(query.getChild('set', NS_RSM)); } catch (e) { throw new StanzaError('bad-request', (e as RsmError).message); }
  const max = Math.min(rsm?.max ?? limits.defaultPageSize, limits.maxPageSize);
  q.limit = max;

  // Bounds in each direction from the form (filters) and from RSM (paging).
  const afters = [field(form, 'after-id'), rsm?.after].filter((x): x is string => x !== undefined);
  const befores = [field(form, 'before-id'), rsm?.before || undefined].filter((x): x is string => x !== undefined);
  if (afters.length === 1) q.after = afters[0]!;
  if (befores.length === 1) q.before = befores[0]!;
  if (afters.length === 2 || befores.length === 2) {
    out.anchors = {};
    if (afters.length === 2) out.anchors.after = afters;
    if (befores.length === 2) out.anchors.before = befores;
  }
  // RSM <before/> (empty or with an id) pages backwards: the last `max` items before it.
  if (rsm?.before !== undefined) q.reverse = true;
  if (rsm?.index !== undefined && rsm.index !== 0) {
    // §2.5: an index replaces the UID the client does not know; with one it means nothing.
    if (rsm.after !== undefined || rsm.before !== undefined) throw new StanzaError('bad-request', 'RSM <index/> cannot be combined with <after/> or <before/>');
    if (!Number.isSafeInteger(rsm.index) || rsm.index < 0) throw new StanzaError('bad-request', 'RSM <index/> must be a non-negative integer');
    // §2.5: "exceptionally resource intensive" jumps may be refused: the items before the
    // index are read to find where the page starts, so their number is bounded.
    if (rsm.index > limits.maxIndex) throw new StanzaError('feature-not-implemented', `RSM <index/> above ${limits.maxIndex} is not supported; page with <after/> or <before/>`);
    out.index = rsm.index;
  }
  out.fromStart = !q.reverse && afters.length === 0 && out.index === undefined;
  return out;
}
