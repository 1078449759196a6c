// Subscription options (XEP-0060 §6.3): reading a submitted form, the form offered (show-values
// only where the subscriber's presence is known), and whom a subscription's notifications go to.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import { readForm } from './forms.js';
import { DEFAULT_SUB_OPTIONS, applySubOptions, deliveryTargets, isDefault, showOf, subOptionsForm } from './subscription-options.js';

const f = (o: Record<string, string[]>) => new Map(Object.entries(o));
const app = (fn: () => void): string | undefined => {
  try { fn(); return undefined; } catch (e) { return `${(e as StanzaError).condition}/${(e as StanzaError).appCondition?.name}`; }
};

it('applies deliver and show-values, and refuses the rest with invalid-options', () => {
  const o = applySubOptions(DEFAULT_SUB_OPTIONS, f({ 'pubsub#deliver': ['false'], 'pubsub#show-values': ['online', 'chat', 'online'] }), true);
  assert.deepEqual(o, { deliver: false, show: ['chat', 'online'] });
  assert.deepEqual(DEFAULT_SUB_OPTIONS, { deliver: true, show: [] }, 'the base is not changed');
  assert.equal(isDefault(o), false);
  assert.equal(isDefault(applySubOptions(o, f({ 'pubsub#deliver': ['1'], 'pubsub#show-values': [] }), true)), true);
  assert.equal(app(() => applySubOptions(DEFAULT_SUB_OPTIONS, f({ 'pubsub#deliver': ['yes'] }), true)), 'bad-request/invalid-options');
  assert.equal(app(() => applySubOptions(DEFAULT_SUB_OPTIONS, f({ 'pubsub#show-values': ['busy'] }), true)), 'bad-request/invalid-options');
  assert.equal(app(() => applySubOptions(DEFAULT_SUB_OPTIONS, f({ 'pubsub#digest': ['1'] }), true)), 'bad-request/invalid-options');
  // A subscriber on another server: its presence is not known, show-values cannot be honoured.
  assert.equal(app(() => applySubOptions(DEFAULT_SUB_OPTIONS, f({ 'pubsub#show-values': ['online'] }), false)), 'bad-request/invalid-options');
  assert.deepEqual(applySubOptions(DEFAULT_SUB_OPTIONS, f({ 'pubsub#deliver': ['0'] }), false), { deliver: false, show: [] });
});

it('offers show-values only where presence is known, and reads back what it wrote', () => {
  const o = { deliver: false, show: ['away'] };
  const local = readForm(subOptionsForm(o, 'form', true));
  assert.equal(local.formType, 'http://jabber.org/protocol/pubsub#subscribe_options');
  assert.deepEqual(applySubOptions(DEFAULT_SUB_OPTIONS, local.fields, true), o);
  assert.deepEqual([...readForm(subOptionsForm(o, 'form', false)).fields.keys()], ['pubsub#deliver']);
});

it('sends to the subscribed JID, to nobody with deliver=false, or to the resources whose show is selected', () => {
  const session = (jid: string, presence?: string) => ({ jid: JID.parse(jid), presence: presence === undefined ? undefined : xml('presence', 'jabber:client', {}, presence ? xml('show', 'jabber:client', {}, presence) : undefined) });
  const all = [session('u@x/a', 'dnd'), session('u@x/b', ''), session('u@x/c'), session('u@x/d', 'chat')];
  const sessions = { resources: (bare: string) => (bare === 'u@x' ? all : []) };
  assert.equal(showOf(all[1]!.presence), 'online');
  assert.equal(showOf(all[2]!.presence), undefined);
  assert.deepEqual(deliveryTargets(sessions, 'u@x', undefined), ['u@x']);
  assert.deepEqual(deliveryTargets(sessions, 'u@x', { deliver: true, show: [] }), ['u@x']);
  assert.deepEqual(deliveryTargets(sessions, 'u@x', { deliver: false, show: [] }), []);
  assert.deepEqual(deliveryTargets(sessions, 'u@x', { deliver: true, show: ['chat', 'online'] }), ['u@x/b', 'u@x/d']);
  assert.deepEqual(deliveryTargets(sessions, 'u@x/a', { deliver: true, show: ['chat', 'online'] }), []);
  assert.deepEqual(deliveryTargets(sessions, 'u@x/a', { deliver: true, show: ['dnd'] }), ['u@x/a']);
  assert.deepEqual(deliveryTargets(sessions, 'v@x', { deliver: true, show: ['online'] }), [], 'offline: nothing');
});
