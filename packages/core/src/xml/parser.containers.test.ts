// Containers: depth-1 elements whose children are delivered one by one (the XEP-0227 import
// reads <server-data><host>…users…</host></server-data> user by user). Checks the events, the
// namespace scope a container gives its children, the byte limit applying per child rather than
// to the whole container, and the chunk-independence every parser test insists on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from './element.js';
import { StreamParser, type ParserLimits } from './parser.js';

const PIE = 'urn:xmpp:pie:0';

function run(doc: string, limits?: Partial<ParserLimits>, chunk = 0): unknown[] {
  const out: unknown[] = [];
  const p = new StreamParser({
    onStreamOpen: (i) => out.push(['open', i.name]),
    onElement: (e: Element) => out.push(['el', e.name, e.xmlns, e.attrs.name ?? '', e.toString().length]),
    onStreamClose: () => out.push(['close']),
    onError: (c, t) => out.push(['error', c, t]),
    isContainer: (name, ns, depth) => depth === 0 && name === 'host' && ns === PIE,
    onContainerOpen: (el) => out.push(['host', el.attrs.jid, el.xmlns]),
    onContainerClose: () => out.push(['/host']),
  }, limits);
  if (chunk <= 0) p.write(doc);
  else for (let i = 0; i < doc.length; i += chunk) p.write(doc.slice(i, i + chunk));
  return out;
}

const DOC = `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>
  <host jid='a.test' xmlns:x='urn:x'>
    <user name='one'><query xmlns='jabber:iq:roster'/></user>
    <user name='two'/>
    <x:extra/>
  </host>
  <xi:include href='b.test.xml'/>
  <host jid='c.test'/>
</server-data>`;

test('a container reports open/close and its children one by one, in its namespace scope', () => {
  const ev = run(DOC);
  assert.deepEqual(ev.map((e) => (e as unknown[]).slice(0, 4)), [
    ['open', 'server-data'],
    ['host', 'a.test', PIE],
    ['el', 'user', PIE, 'one'],
    ['el', 'user', PIE, 'two'],
    ['el', 'extra', 'urn:x', ''],
    ['/host'],
    ['el', 'include', 'http://www.w3.org/2001/XInclude', ''],
    ['host', 'c.test', PIE],
    ['/host'],
    ['close'],
  ]);
});

test('the same events whatever the chunking', () => {
  const whole = run(DOC);
  for (const n of [1, 2, 3, 7, 64]) assert.deepEqual(run(DOC, {}, n), whole, `chunks of ${n}`);
});

test('maxStanzaBytes applies to each child, not to the container', () => {
  const big = (n: number) => `<user name='u${n}'><vCard xmlns='vcard-temp'><FN>${'x'.repeat(400)}</FN></vCard></user>`;
  const doc = `<server-data xmlns='${PIE}'><host jid='a.test'>${[1, 2, 3, 4, 5].map(big).join('')}</host></server-data>`;
  const ok = run(doc, { maxStanzaBytes: 1024 });
  assert.equal(ok.filter((e) => (e as unknown[])[0] === 'el').length, 5);
  assert.deepEqual(ok.at(-1), ['close']);
  const tooBig = run(`<server-data xmlns='${PIE}'><host jid='a.test'><user name='big'>${'y'.repeat(2000)}</user></host></server-data>`, { maxStanzaBytes: 1024 }, 100);
  assert.equal((tooBig.at(-1) as unknown[])[1], 'policy-violation');
});

test('a mismatched container end tag and text between children are errors', () => {
  assert.equal((run(`<server-data xmlns='${PIE}'><host jid='a'></server-data>`).at(-1) as unknown[])[1], 'not-well-formed');
  assert.equal((run(`<server-data xmlns='${PIE}'><host jid='a'>text</host></server-data>`).at(-1) as unknown[])[1], 'bad-format');
});

test('nested containers are bounded by maxDepth', () => {
  const out: unknown[] = [];
  const p = new StreamParser({
    onStreamOpen() {}, onElement() {}, onStreamClose() {},
    onError: (c) => out.push(c),
    isContainer: () => true,
  }, { maxDepth: 4 });
  p.write(`<r>${'<c>'.repeat(10)}`);
  assert.deepEqual(out, ['policy-violation']);
});

test('without isContainer a depth-1 element is a stanza as before', () => {
  const out: string[] = [];
  const p = new StreamParser({ onStreamOpen() {}, onElement: (e) => out.push(e.toString()), onStreamClose() {}, onError: (c) => out.push(c) });
  p.write(`<server-data xmlns='${PIE}'><host jid='a'><user name='x'/></host></server-data>`);
  assert.deepEqual(out, [`<host xmlns="${PIE}" jid="a"><user name="x"/></host>`]);
});
