// Data forms (XEP-0004 §3) as far as PubSub needs them: node configuration (XEP-0060 §8.2),
// publish-options (§7.1.5) and the node meta-data of disco#info (§5.4). A form is read into a
// map of field values; a form is written from a list of fields. Kept inside this module until a
// shared data-forms helper exists.

import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';

export const NS_DATA = 'jabber:x:data';

export interface FormField {
  var: string;
  type?: 'boolean' | 'fixed' | 'hidden' | 'jid-multi' | 'jid-single' | 'list-multi' | 'list-single' | 'text-multi' | 'text-private' | 'text-single';
  label?: string;
  values: string[];
  options?: string[];
}

/** The values of a submitted (or result) form by field name; FORM_TYPE is returned apart. */
export function readForm(x: Element): { formType?: string; type: string; fields: Map<string, string[]> } {
  if (x.name !== 'x' || x.xmlns !== NS_DATA) throw new StanzaError('bad-request', 'a jabber:x:data form was expected');
  const fields = new Map<string, string[]>();
  let formType: string | undefined;
  for (const f of x.getChildren('field', NS_DATA)) {
    const name = f.attr('var');
    if (!name) continue;
    const values = f.getChildren('value', NS_DATA).map((v) => v.text());
    if (name === 'FORM_TYPE') { formType = values[0]; continue; }
    fields.set(name, values);
  }
  const out: { formType?: string; type: string; fields: Map<string, string[]> } = { type: x.attr('type') ?? '', fields };
  if (formType !== undefined) out.formType = formType;
  return out;
}

export function writeForm(type: 'form' | 'result' | 'submit', formType: string, fields: FormField[]): Element {
  const x = xml('x', NS_DATA, { type });
  x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(formType);
  for (const f of fields) {
    const el = x.c('field', { var: f.var, type: type === 'submit' ? undefined : f.type, label: type === 'form' ? f.label : undefined });
    if (type === 'form') for (const o of f.options ?? []) el.c('option').c('value').t(o);
    for (const v of f.values) el.c('value').t(v);
  }
  return x;
}

/** XEP-0004 §3.3 boolean: "0"/"false" and "1"/"true". */
export function parseBoolean(v: string | undefined): boolean | undefined {
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}
