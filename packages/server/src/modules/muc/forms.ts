// Minimal Data Forms (XEP-0004) for MUC: building the forms the service sends (room
// configuration, room info, voice requests, registration) and reading the values of a submitted form.
// Kept inside the muc module on purpose: a shared data-form helper is being written elsewhere.

import { Element, xml } from '@magpie/core/xml/element';

export const NS_DATA = 'jabber:x:data';

export interface FieldSpec {
  var: string;
  type?: 'boolean' | 'fixed' | 'hidden' | 'jid-multi' | 'jid-single' | 'list-multi' | 'list-single' | 'text-multi' | 'text-private' | 'text-single';
  label?: string;
  values?: string[];
  options?: { value: string; label?: string }[];
  required?: boolean;
}

export function field(f: FieldSpec): Element {
  const el = xml('field', NS_DATA, { var: f.var, type: f.type, label: f.label });
  if (f.required) el.append(xml('required', NS_DATA));
  for (const o of f.options ?? []) el.append(xml('option', NS_DATA, { label: o.label }, xml('value', NS_DATA, {}, o.value)));
  for (const v of f.values ?? []) el.append(xml('value', NS_DATA, {}, v));
  return el;
}

export function form(type: 'form' | 'result' | 'submit', formType: string, fields: FieldSpec[], title?: string): Element {
  return xml('x', NS_DATA, { type },
    title !== undefined ? xml('title', NS_DATA, {}, title) : undefined,
    field({ var: 'FORM_TYPE', type: 'hidden', values: [formType] }),
    ...fields.map(field));
}

/** Values of a submitted form by field var (FORM_TYPE included). */
export function formValues(x: Element): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of x.getChildren('field', NS_DATA)) {
    const v = f.attrs.var;
    if (!v) continue;
    out.set(v, f.getChildren('value', NS_DATA).map((e) => e.text()));
  }
  return out;
}

export function formType(x: Element): string | undefined { return formValues(x).get('FORM_TYPE')?.[0]; }

/** XEP-0004 §3.3 boolean: "1"/"true" are true, "0"/"false" false; anything else is undefined. */
export function parseBool(v: string | undefined): boolean | undefined {
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}
