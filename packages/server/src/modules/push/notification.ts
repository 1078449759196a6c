// The publish a user's server sends to an app server (XEP-0357 §7): a pubsub publish of a
// <notification/> with the urn:xmpp:push:summary form, and the publish-options the client gave
// when enabling. Which summary fields are included is the operator's choice: sender and body
// reveal the conversation to the app server and to the platform's push service, so both are
// off by default (as Prosody's and ejabberd's defaults are), and the count is on.

import { Element, serialize, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';

export const NS_PUSH = 'urn:xmpp:push:0';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_DATA = 'jabber:x:data';

export interface Summary { messageCount: number; lastSender?: string; lastBody?: string }

const field = (v: string, value: string): Element => xml('field', NS_DATA, { var: v }, xml('value', NS_DATA, {}, value));

export function publishIq(from: string, to: string, node: string, summary: Summary, options: string | undefined): Element {
  const form = xml('x', NS_DATA, { type: 'submit' }, field('FORM_TYPE', 'urn:xmpp:push:summary'), field('message-count', String(summary.messageCount)));
  if (summary.lastSender !== undefined) form.children.push(field('last-message-sender', summary.lastSender));
  if (summary.lastBody !== undefined) form.children.push(field('last-message-body', summary.lastBody));
  const pubsub = xml('pubsub', NS_PUBSUB, {},
    xml('publish', NS_PUBSUB, { node }, xml('item', NS_PUBSUB, {}, xml('notification', NS_PUSH, {}, form))));
  if (options) pubsub.children.push(xml('publish-options', NS_PUBSUB, {}, parseFragment(options)));
  return xml('iq', 'jabber:client', { type: 'set', from, to }, pubsub);
}

/** The publish-options form of an <enable/>, checked (§5: FORM_TYPE pubsub#publish-options), serialised for storage. */
export function publishOptions(enable: Element): string | undefined | Error {
  const form = enable.getChild('x', NS_DATA);
  if (!form) return undefined;
  const type = form.getChildren('field').find((f) => f.attr('var') === 'FORM_TYPE')?.getChildText('value');
  if (type !== 'http://jabber.org/protocol/pubsub#publish-options') return new Error('the form must be of type http://jabber.org/protocol/pubsub#publish-options');
  // Kept as submitted (a client's secret for its app server); re-serialised from the parsed tree.
  const clean = xml('x', NS_DATA, { type: 'submit' });
  for (const f of form.getChildren('field')) {
    const copy = xml('field', NS_DATA, { var: f.attr('var') });
    for (const v of f.getChildren('value')) copy.children.push(xml('value', NS_DATA, {}, v.text()));
    clean.children.push(copy);
  }
  return serialize(clean);
}
