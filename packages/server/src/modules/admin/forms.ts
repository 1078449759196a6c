// The forms of Service Administration (XEP-0133 1.3): FORM_TYPE 'http://jabber.org/protocol/admin'
// (§5), the fields each command asks for, and reading a submitted one strictly: a field that
// is missing, has several values where one is expected, or names an account of another host is
// bad-payload (XEP-0050 §4.6), never a guess.

import { xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { DataFormError, singleValue, type DataForm, type FieldSpec } from '@magpie/core/protocol/data-form';
import { JID } from '@magpie/core/jid/jid';
import { badPayload } from '../adhoc/commands.js';

export const ADMIN_FORM = 'http://jabber.org/protocol/admin';
export const adminNode = (name: string): string => `${ADMIN_FORM}#${name}`;

const required = [xml('required', NS.DATA_FORMS)];
export const field = (v: string, type: string, label: string, mandatory = true): FieldSpec =>
  ({ var: v, type, label, extra: mandatory ? required : [] });

/** The submitted form of this stage; bad-payload when there is none or it is another FORM_TYPE. */
export function submitted(form: DataForm | undefined): DataForm {
  if (!form) throw badPayload('the command needs its form submitted');
  if (form.formType !== undefined && form.formType !== ADMIN_FORM) throw badPayload(`unexpected FORM_TYPE '${form.formType}'`);
  return form;
}

/** A single-valued field's value; bad-payload when missing (or empty) and required. */
export function text(form: DataForm, name: string): string | undefined {
  let v: string | undefined;
  try { v = singleValue(form, name); } catch (e) {
    if (e instanceof DataFormError) throw badPayload(e.message);
    throw e;
  }
  return v === '' ? undefined : v;
}
export function requiredText(form: DataForm, name: string): string {
  const v = text(form, name);
  if (v === undefined) throw badPayload(`field '${name}' is required`);
  return v;
}

/** An account of `host` named by a bare JID (PRECIS-normalised); bad-payload otherwise. */
export function accountOf(value: string, host: string): JID {
  const j = JID.tryParse(value.trim());
  if (!j || !j.local || j.resource) throw badPayload(`'${value}' is not a bare JID`);
  if (j.domain !== host) throw badPayload(`'${value}' is not an account of ${host}`);
  return j;
}
