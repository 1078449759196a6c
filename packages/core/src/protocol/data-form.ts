// Data forms (XEP-0004 2.13): reading a submitted form and building a form to fill in.
// Only what services need to take queries (MAM, MUC configuration, PubSub options): fields keyed
// by `var` with their values; media, layout and reported/item tables are out of scope.
// XEP-0068 §3: a form's FORM_TYPE is a hidden field; forms of another type are not ours to read.

import { Element, xml } from '../xml/element.js';
import { NS } from './namespaces.js';

export type FormType = 'form' | 'submit' | 'cancel' | 'result';

export interface FormField {
  var: string;
  type?: string;
  label?: string;
  values: string[];
  /** Raw children that are not <value/> (options, validate…), for builders. */
  extra?: Element[];
}

export interface DataForm {
  type: FormType;
  /** The hidden FORM_TYPE field's value, when present (XEP-0068). */
  formType?: string;
  /** Fields other than FORM_TYPE, in document order, keyed by var. */
  fields: Map<string, FormField>;
}

export class DataFormError extends Error {
  constructor(message: string) { super(message); this.name = 'DataFormError'; }
}

const TYPES = new Set<FormType>(['form', 'submit', 'cancel', 'result']);

/**
 * Reads an <x xmlns='jabber:x:data'/> element. Throws DataFormError for a form the protocol
 * forbids: an unknown form type, a field without var (other than fixed), or one var twice
 * (XEP-0004 §3.2: var "MUST be unique within the form").
 */
export function parseDataForm(x: Element): DataForm {
  if (x.name !== 'x' || x.xmlns !== NS.DATA_FORMS) throw new DataFormError('not a data form');
  const type = (x.attrs.type ?? '') as FormType;
  if (!TYPES.has(type)) throw new DataFormError(`unknown data form type '${type}'`);
  const fields = new Map<string, FormField>();
  let formType: string | undefined;
  for (const f of x.getChildren('field', NS.DATA_FORMS)) {
    const v = f.attrs.var;
    if (v === undefined) {
      if (f.attrs.type === 'fixed') continue;
      throw new DataFormError('a field has no var');
    }
    const values = f.getChildren('value', NS.DATA_FORMS).map((e) => e.text());
    if (v === 'FORM_TYPE') {
      if (formType !== undefined) throw new DataFormError('FORM_TYPE appears twice');
      formType = values[0] ?? '';
      continue;
    }
    if (fields.has(v)) throw new DataFormError(`field '${v}' appears twice`);
    const field: FormField = { var: v, values };
    if (f.attrs.type !== undefined) field.type = f.attrs.type;
    fields.set(v, field);
  }
  const form: DataForm = { type, fields };
  if (formType !== undefined) form.formType = formType;
  return form;
}

/** The single value of a field; undefined when absent. Throws when it has several (XEP-0004 §3.3 *-single). */
export function singleValue(form: DataForm, name: string): string | undefined {
  const f = form.fields.get(name);
  if (!f) return undefined;
  if (f.values.length > 1) throw new DataFormError(`field '${name}' takes one value`);
  return f.values[0];
}

/** XEP-0004 §3.3 boolean: "0"/"false" and "1"/"true". */
export function booleanValue(form: DataForm, name: string): boolean | undefined {
  const v = singleValue(form, name);
  if (v === undefined) return undefined;
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new DataFormError(`field '${name}' is not a boolean`);
}

export interface FieldSpec { var: string; type?: string; label?: string; values?: string[]; extra?: Element[] }

/** Builds a form; `formType` becomes the hidden FORM_TYPE field (first, as XEP-0068 §3 asks). */
export function buildDataForm(type: FormType, formType: string | undefined, fields: FieldSpec[], opts: { title?: string; instructions?: string } = {}): Element {
  const x = xml('x', NS.DATA_FORMS, { type });
  if (opts.title !== undefined) x.c('title').t(opts.title);
  if (opts.instructions !== undefined) x.c('instructions').t(opts.instructions);
  if (formType !== undefined) x.append(xml('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, xml('value', NS.DATA_FORMS, {}, formType)));
  for (const f of fields) {
    const el = x.c('field', { var: f.var, type: f.type, label: f.label });
    for (const v of f.values ?? []) el.c('value').t(v);
    el.append(...(f.extra ?? []));
  }
  return x;
}
