// The jabber:iq:register payloads (XEP-0077 §3, §4, §14): the registration fields offered both
// as the legacy <username/>/<password/> elements and as a data form with FORM_TYPE
// jabber:iq:register (§4: the form takes precedence, a client submits one or the other), and
// reading what a client submits: fields, a form (registration or the changepassword form of
// §14.3), or <remove/> (§3.2, which must be the query's only child).

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { DataFormError, buildDataForm, parseDataForm, singleValue } from '@magpie/core/protocol/data-form';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
const FORM_REGISTER = 'jabber:iq:register';
const FORM_CHANGE_PASSWORD = 'jabber:iq:register:changepassword';

/** §3.1: what an unregistered entity must provide. */
export function registrationForm(instructions: string): Element {
  return xml('query', NS_REGISTER, {},
    xml('instructions', NS_REGISTER, {}, instructions),
    xml('username', NS_REGISTER),
    xml('password', NS_REGISTER),
    buildDataForm('form', FORM_REGISTER, [
      { var: 'username', type: 'text-single', label: 'Username', extra: [xml('required', NS.DATA_FORMS)] },
      { var: 'password', type: 'text-private', label: 'Password', extra: [xml('required', NS.DATA_FORMS)] },
    ], { title: 'Account registration', instructions }));
}

/** §3.1: an authenticated entity is told it is registered, with what is on file (no password: only SCRAM keys are kept). */
export function registeredForm(username: string): Element {
  return xml('query', NS_REGISTER, {},
    xml('registered', NS_REGISTER),
    xml('instructions', NS_REGISTER, {}, 'You are registered. Send a new password to change it, or <remove/> to delete the account.'),
    xml('username', NS_REGISTER, {}, username),
    xml('password', NS_REGISTER));
}

export type Submission =
  | { kind: 'remove' }
  | { kind: 'credentials'; username?: string; password?: string; oldPassword?: string };

/** Reads a set's <query/>; throws bad-request for a malformed one. */
export function readSubmission(q: Element): Submission {
  const children = q.elements();
  if (q.getChild('remove', NS_REGISTER)) {
    if (children.length !== 1) throw new StanzaError('bad-request', '<remove/> must be the only child of <query/>');
    return { kind: 'remove' };
  }
  const x = q.getChild('x', NS.DATA_FORMS);
  if (x) {
    let form;
    try { form = parseDataForm(x); } catch (e) { throw new StanzaError('bad-request', e instanceof DataFormError ? e.message : 'malformed data form'); }
    if (form.type !== 'submit') throw new StanzaError('bad-request', 'expected a submitted form');
    if (form.formType !== undefined && form.formType !== FORM_REGISTER && form.formType !== FORM_CHANGE_PASSWORD) throw new StanzaError('bad-request', `unknown FORM_TYPE ${form.formType}`);
    try {
      return { kind: 'credentials', username: singleValue(form, 'username'), password: singleValue(form, 'password'), oldPassword: singleValue(form, 'old_password') };
    } catch (e) { throw new StanzaError('bad-request', (e as Error).message); }
  }
  const field = (name: string): string | undefined => {
    const els = q.getChildren(name, NS_REGISTER);
    if (els.length > 1) throw new StanzaError('bad-request', `<${name}/> appears twice`);
    return els[0]?.text();
  };
  return { kind: 'credentials', username: field('username'), password: field('password') };
}
