// Node configuration forms and publish-options preconditions (XEP-0060 §8.2, §7.1.5).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { StanzaError } from '@magpie/core/protocol/errors';
import { applyConfig, checkPreconditions, configForm, type NodeConfig } from './node-config.js';
import { readForm } from './forms.js';

const base: NodeConfig = {
  title: '', description: '', max_items: 1, persist_items: true, access_model: 'presence', roster_groups_allowed: [],
  publish_model: 'publishers', notification_type: 'headline', send_last_published_item: 'on_sub_and_presence',
  deliver_payloads: true, deliver_notifications: true, notify_retract: true, notify_delete: true, notify_config: false,
  presence_based_delivery: false, type: '',
};
const f = (o: Record<string, string | string[]>) => new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
const cond = (fn: () => void): string | undefined => { try { fn(); return undefined; } catch (e) { return (e as StanzaError).condition; } };

it('applies fields and refuses bad values and unknown fields', () => {
  const c = applyConfig(base, f({ 'pubsub#max_items': 'max', 'pubsub#access_model': 'open', 'pubsub#persist_items': 'false', 'pubsub#roster_groups_allowed': ['A', 'B'] }));
  assert.equal(c.max_items, 'max');
  assert.equal(c.access_model, 'open');
  assert.equal(c.persist_items, false);
  assert.deepEqual(c.roster_groups_allowed, ['A', 'B']);
  assert.equal(base.access_model, 'presence', 'the base is not changed');
  assert.equal(cond(() => applyConfig(base, f({ 'pubsub#max_items': '0' }))), 'not-acceptable');
  assert.equal(cond(() => applyConfig(base, f({ 'pubsub#persist_items': 'yes' }))), 'not-acceptable');
  // 'authorize' is a known model; whether a service offers it is the engine's decision.
  assert.equal(applyConfig(base, f({ 'pubsub#access_model': 'authorize' })).access_model, 'authorize');
  assert.equal(cond(() => applyConfig(base, f({ 'pubsub#access_model': 'everyone' }))), 'not-acceptable');
  assert.equal(cond(() => applyConfig(base, f({ 'pubsub#frob': '1' }))), 'not-acceptable');
});

it('checks preconditions value by value, booleans in either spelling', () => {
  assert.equal(cond(() => checkPreconditions(base, f({ 'pubsub#access_model': 'presence', 'pubsub#persist_items': '1' }))), undefined);
  assert.equal(cond(() => checkPreconditions(base, f({ 'pubsub#persist_items': 'true' }))), undefined);
  assert.equal(cond(() => checkPreconditions(base, f({ 'pubsub#access_model': 'open' }))), 'conflict');
  assert.equal(cond(() => checkPreconditions(base, f({ 'pubsub#max_items': 'bad' }))), 'conflict');
  assert.equal(cond(() => checkPreconditions(base, f({ 'pubsub#unknown': 'x' }))), 'conflict');
});

it('writes a form that reads back to the same configuration', () => {
  const c = applyConfig(base, f({ 'pubsub#title': 'T', 'pubsub#max_items': '7', 'pubsub#roster_groups_allowed': ['G'] }));
  const read = readForm(configForm(c));
  assert.equal(read.formType, 'http://jabber.org/protocol/pubsub#node_config');
  assert.deepEqual(applyConfig(base, read.fields), c);
});
