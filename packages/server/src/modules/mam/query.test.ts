import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { StanzaError } from '@magpie/core/protocol/errors';
import { parseQuery } from './query.js';
import { parsePrefs, prefsXml, shouldArchive } from './prefs.js';
import { JID } from '@magpie/core/jid/jid';

const limits = { defaultPageSize: 20, maxPageSize: 100, maxIds: 3, maxIndex: 10 };
const form = (fields: string) => `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>${fields}</x>`;
const f = (v: string, ...vals: string[]) => `<field var='${v}'>${vals.map((x) => `<value>${x}</value>`).join('')}</field>`;
const q = (inner: string, attrs = '') => parseQuery(parseFragment(`<query xmlns='urn:xmpp:mam:2'${attrs}>${inner}</query>`), limits);
const rsm = (inner: string) => `<set xmlns='http://jabber.org/protocol/rsm'>${inner}</set>`;
const cond = (fn: () => unknown): string => { try { fn(); } catch (e) { return (e as StanzaError).condition; } return 'none'; };

it('turns the form and RSM into one store query', () => {
  assert.deepEqual(q('', " queryid='z'"), { q: { limit: 20 }, flip: false, fromStart: true, queryid: 'z' });
  const p = q(form(f('with', 'Juliet@Capulet.lit/balcony') + f('start', '2010-06-07T00:00:00Z') + f('end', '2010-07-07T13:23:54Z') + f('ids', 'a', 'b', 'a')) + rsm('<max>500</max><before/>') + '<flip-page/>');
  assert.deepEqual(p.q, { with: 'juliet@capulet.lit', withResource: 'balcony', start: Date.UTC(2010, 5, 7), end: Date.UTC(2010, 6, 7, 13, 23, 54), ids: ['a', 'b'], limit: 100, reverse: true });
  assert.deepEqual([p.flip, p.fromStart, p.ids], [true, false, ['a', 'b']]);
  assert.deepEqual(q(form(f('after-id', 'x')) + rsm('<before>y</before>')).q, { limit: 20, after: 'x', before: 'y', reverse: true });
  assert.deepEqual(q(form(f('after-id', 'x')) + rsm('<after>y</after>')).anchors, { after: ['x', 'y'] });
  assert.equal(q(form(f('with', 'a@b'))).q.withResource, undefined);
});

it('answers malformed queries with the XEP\'s conditions', () => {
  assert.equal(cond(() => q(form(f('start', 'tomorrow')))), 'bad-request');
  assert.equal(cond(() => q(form(f('with', 'a@b@c')))), 'bad-request');
  assert.equal(cond(() => q(form(f('with', 'a@b', 'c@d')))), 'bad-request');
  assert.equal(cond(() => q(`<x xmlns='jabber:x:data' type='form'/>`)), 'bad-request');
  assert.equal(cond(() => q(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x>`)), 'bad-request');
  assert.equal(cond(() => q(form(f('{urn:x}free-text', 'hi')))), 'feature-not-implemented');
  assert.equal(cond(() => q(rsm('<index>11</index>'))), 'feature-not-implemented'); // beyond maxIndex (§2.5)
  assert.equal(cond(() => q(rsm('<index>5</index>'))), 'none');
  assert.equal(q(rsm('<index>5</index>')).index, 5);
  assert.equal(cond(() => q(rsm('<index>5</index><after>x</after>'))), 'bad-request');
  assert.equal(cond(() => q(rsm('<max>-3</max>'))), 'bad-request');
  assert.equal(cond(() => q(form(f('ids', '1', '2', '3', '4')))), 'policy-violation');
  assert.equal(cond(() => q(rsm('<index>0</index>'))), 'none');
});

it('preferences: parse, serialise, decide', async () => {
  const p = parsePrefs(parseFragment(`<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>A@b</jid><jid>a@b</jid></always><never><jid>x@y/r</jid></never></prefs>`), 10);
  assert.deepEqual(p, { default: 'roster', always: ['a@b'], never: ['x@y/r'] });
  assert.equal(parsePrefs(parseFragment(prefsXml(p).toString()), 10).always[0], 'a@b');
  const yes = async () => true, no = async () => false;
  assert.equal(await shouldArchive(p, JID.parse('a@b/z'), no), true, 'always list by bare JID');
  assert.equal(await shouldArchive(p, JID.parse('x@y/r'), yes), false, 'never list by full JID');
  assert.equal(await shouldArchive(p, JID.parse('x@y/other'), yes), true, 'roster default');
  assert.equal(await shouldArchive(p, JID.parse('x@y/other'), no), false);
  assert.equal(await shouldArchive({ default: 'never', always: ['a@b'], never: ['a@b'] }, JID.parse('a@b'), yes), false, 'never wins');
  assert.equal(cond(() => parsePrefs(parseFragment(`<prefs xmlns='urn:xmpp:mam:2'/>`), 10)), 'bad-request');
  assert.equal(cond(() => parsePrefs(parseFragment(`<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid>a@b</jid><jid>c@d</jid></never></prefs>`), 1)), 'policy-violation');
});
