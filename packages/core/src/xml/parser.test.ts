// Unit tests for the XMPP stream parser: RFC 6120 §11 (restricted XML, namespaces, well-formedness,
// UTF-8) and the stream/stanza framing of §4. Limits and resets are in parser.limits.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from './element.js';
import { StreamParser, parseFragment, type ParserLimits } from './parser.js';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' " +
  "to='example.com' version='1.0' xml:lang='en'>";

/** A structural dump, so comparisons see namespaces and attribute keys, not serialiser choices. */
function dump(n: Element | string): unknown {
  if (typeof n === 'string') return n;
  const attrs = Object.keys(n.attrs).sort().map((k) => [k, n.attrs[k]]);
  return [n.name, n.xmlns, attrs, n.children.map(dump)];
}

/** Feed `chunks` to a fresh parser and record every event. */
function events(chunks: (string | Uint8Array)[], limits?: Partial<ParserLimits>): unknown[] {
  const out: unknown[] = [];
  const p = new StreamParser({
    onStreamOpen: (i) => out.push(['open', i]),
    onElement: (e) => out.push(['el', dump(e)]),
    onStreamClose: () => out.push(['close']),
    onError: (c) => out.push(['error', c]),
  }, limits);
  for (const c of chunks) p.write(c);
  return out;
}

const last = (ev: unknown[]): unknown => ev[ev.length - 1];
const errorOf = (doc: string | (string | Uint8Array)[]): unknown => {
  const ev = events(typeof doc === 'string' ? [doc] : doc);
  const e = last(ev) as unknown[];
  return e[0] === 'error' ? e[1] : 'no error';
};

const STREAM = HEADER +
  "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" +
  "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>\n" +
  "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' xml:lang='fr' id='m1'>" +
  "<body>Wherefore art thou? 😀 中文 &lt;&amp;&gt; &#x1F600;&#233;</body>" +
  "<x xmlns='jabber:x:data' xmlns:p='urn:example:p' p:flag=\"yes\" type='form'><field var='a b'><value>1\r\n2</value></field></x>" +
  "<![CDATA[raw <text> & more]]><thread>abc</thread></message> \r\n\t" +
  "<db:result from='a.example' to='b.example'>key</db:result>" +
  "<presence><show>away</show><status>Ça va — très bien</status></presence>" +
  '</stream:stream>';

test('a normal client stream produces the expected events', () => {
  const ev = events([STREAM]);
  assert.equal(ev.length, 6);
  assert.deepEqual(ev[0], ['open', {
    name: 'stream', xmlns: 'http://etherx.jabber.org/streams', prefix: 'stream',
    attrs: { to: 'example.com', version: '1.0', 'xml:lang': 'en' }, defaultNs: 'jabber:client',
    prefixes: { stream: 'http://etherx.jabber.org/streams', db: 'jabber:server:dialback' },
  }]);
  assert.deepEqual(ev[1], ['el', ['features', 'http://etherx.jabber.org/streams', [], [
    ['starttls', 'urn:ietf:params:xml:ns:xmpp-tls', [], [['required', 'urn:ietf:params:xml:ns:xmpp-tls', [], []]]],
    ['mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl', [], [['mechanism', 'urn:ietf:params:xml:ns:xmpp-sasl', [], ['PLAIN']]]],
  ]]]);
  assert.deepEqual(ev[2], ['el', ['message', 'jabber:client',
    [['from', 'juliet@example.com/balcony'], ['id', 'm1'], ['to', 'romeo@example.net'], ['type', 'chat'], ['xml:lang', 'fr']], [
      ['body', 'jabber:client', [], ['Wherefore art thou? 😀 中文 <&> 😀é']],
      ['x', 'jabber:x:data', [['type', 'form'], ['{urn:example:p}flag', 'yes']], [
        ['field', 'jabber:x:data', [['var', 'a b']], [['value', 'jabber:x:data', [], ['1\n2']]]]]],
      'raw <text> & more',
      ['thread', 'jabber:client', [], ['abc']],
    ]]]);
  assert.deepEqual(ev[3], ['el', ['result', 'jabber:server:dialback', [['from', 'a.example'], ['to', 'b.example']], ['key']]]);
  assert.deepEqual(ev[4], ['el', ['presence', 'jabber:client', [], [
    ['show', 'jabber:client', [], ['away']], ['status', 'jabber:client', [], ['Ça va — très bien']]]]]);
  assert.deepEqual(ev[5], ['close']);
});

test('splitting the bytes at every boundary gives the same events', () => {
  const bytes = Buffer.from(STREAM, 'utf8');
  const whole = events([bytes]);
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(events([bytes.subarray(0, i), bytes.subarray(i)]), whole, 'split at byte ' + i);
  }
  const ones: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) ones.push(bytes.subarray(i, i + 1));
  assert.deepEqual(events(ones), whole, 'one byte at a time');
  for (let i = 3; i < bytes.length; i += 37) {
    assert.deepEqual(events([bytes.subarray(0, i), bytes.subarray(i, i * 2), bytes.subarray(i * 2)]), whole, 'three pieces at ' + i);
  }
});

test('splitting a string at every code unit (even inside surrogate pairs) gives the same events', () => {
  const whole = events([STREAM]);
  for (let i = 1; i < STREAM.length; i++) {
    assert.deepEqual(events([STREAM.slice(0, i), STREAM.slice(i)]), whole, 'split at ' + i);
  }
});

test('chunking never changes the outcome, for broken streams too', () => {
  // Mutations of STREAM: every split point must give exactly the events of the one-shot parse,
  // errors included, so a peer cannot get a different verdict by choosing how to frame its bytes.
  const inserts = ['<', '>', '/', '=', '"', "'", '&', ';', ':', ' ', ']]>', '&#0;', '& ', '\u0001', 'z:', '</a>', '<a>',
    '<!--', '<?x?>', '<!DOCTYPE', '&foo;', '\r', ']]', '<![CDATA[', 'xmlns:p=""', '&#x' + '0'.repeat(70) + '41;'];
  let seed = 99;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const start = STREAM.indexOf('<message');
  for (let k = 0; k < 40; k++) {
    let doc = STREAM;
    for (let m = 0; m < 2; m++) {
      const at = start + Math.floor(rnd() * (doc.length - start));
      doc = rnd() < 0.7 ? doc.slice(0, at) + inserts[Math.floor(rnd() * inserts.length)] + doc.slice(at) : doc.slice(0, at) + doc.slice(at + 1 + Math.floor(rnd() * 3));
    }
    const bytes = Buffer.from(doc);
    const whole = events([bytes]);
    for (let i = 1; i < bytes.length; i += 1 + (i % 3)) {
      assert.deepEqual(events([bytes.subarray(0, i), bytes.subarray(i)]), whole, JSON.stringify(doc) + ' split at ' + i);
    }
    const ones: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) ones.push(bytes.subarray(i, i + 1));
    assert.deepEqual(events(ones), whole, JSON.stringify(doc) + ' one byte at a time');
  }
});

test('whitespace keepalives between stanzas are ignored; text there is bad-format', () => {
  assert.deepEqual(events([HEADER, ' ', '\n', '\r\n\t ', '<presence/>', ' ']).map((e) => (e as unknown[])[0]), ['open', 'el']);
  assert.equal(errorOf(HEADER + 'hello'), 'bad-format');
  assert.equal(errorOf(HEADER + '&amp;'), 'bad-format');
  assert.equal(errorOf(HEADER + '<![CDATA[x]]>'), 'bad-format');
  assert.equal(errorOf('hello' + HEADER), 'not-well-formed');
});

test('well-formedness errors are not-well-formed', () => {
  const bad = [
    '<a></b>', '<a><b></a></b>', '<a b="1" b="2"/>', '<1a/>', '<a 1b="x"/>', '< a/>', '<a b="<"/>', "<a b='1'c='2'/>",
    '<a b=1/>', '<a b/>', '<a>]]></a>', '<a/ >', '<a>& b</a>', '<a>&#0;</a>', '<a>&#xD800;</a>', '<a>&#x110000;</a>',
    '<a>&#X41;</a>', '<a>&;</a>', '<a>&#xg;</a>', '<a:b:c/>', '<:a/>', '<a xmlns:xml="urn:x"/>', '<a xmlns:p=""/>',
    '<a xmlns:p="urn:x" xmlns:q="urn:x" p:k="1" q:k="2"/>', '<a xmlns="http://www.w3.org/2000/xmlns/"/>', '<a><!x></a>',
    '<a>\u0000</a>', '<a>\u0001</a>', '<a>\u000b</a>', '<a>\uFFFE</a>', '<a>\uFFFF</a>', '<a>\uD800x</a>', '<a>x\uDC00</a>',
    '<a b="\u0002"/>', '<a\u0300/>'.replace('a', '\u0300'), '<a><![CDAT[x]]></a>', '</a>',
  ];
  for (const s of bad) assert.equal(errorOf(HEADER + s), 'not-well-formed', JSON.stringify(s));
});

test('namespace prefix errors are bad-namespace-prefix', () => {
  for (const s of ['<p:a/>', '<a p:b="1"/>', '<a><p:b/></a>', '<xmlns:a/>', '<a xmlns:p="u"/><p:a/>']) {
    assert.equal(errorOf(HEADER + s), 'bad-namespace-prefix', s);
  }
  assert.equal(errorOf("<s:stream xmlns='jabber:client'>"), 'bad-namespace-prefix');
});

test('restricted XML (RFC 6120 §11.1) is restricted-xml', () => {
  for (const s of ['<!-- hi -->', '<a><!-- hi --></a>', '<?pi x?>', '<a><?xml-stylesheet href="x"?></a>',
    '<!DOCTYPE a>', '<a>&nbsp;</a>', '<a b="&foo;"/>', '<?xml version="1.0"?>']) {
    assert.equal(errorOf(HEADER + s), 'restricted-xml', s);
  }
  assert.equal(errorOf('<!DOCTYPE stream><stream/>'), 'restricted-xml');
  assert.equal(errorOf(' <?xml version="1.0"?><a>'), 'restricted-xml');
});

test('the XML declaration: only UTF-8, only first', () => {
  assert.equal(errorOf("<?xml version='1.0' encoding='ISO-8859-1'?><stream/>"), 'unsupported-encoding');
  assert.equal(errorOf("<?xml version='1.0' encoding='utf-16'?><stream/>"), 'unsupported-encoding');
  assert.equal(errorOf("<?xml version='1.0' encoding='UtF-8' standalone='yes'?><s>"), 'no error');
  assert.equal(errorOf("<?xml version='2.0'?><s>"), 'not-well-formed');
  assert.equal(errorOf("<?xml encoding='UTF-8'?><s>"), 'not-well-formed');
});

test('byte order marks and encodings', () => {
  const doc = Buffer.from("<?xml version='1.0'?><s xmlns='jabber:client'><a/>");
  const bom = Buffer.from([0xEF, 0xBB, 0xBF]);
  assert.equal(events([Buffer.concat([bom, doc])]).length, 2);
  assert.equal(events([bom.subarray(0, 1), bom.subarray(1), doc]).length, 2);
  assert.equal(events(['\uFEFF' + doc.toString()]).length, 2);
  assert.equal(errorOf([Buffer.concat([Buffer.from([0xFE, 0xFF]), Buffer.from('<s/>', 'utf16le').swap16()])]), 'unsupported-encoding');
  assert.equal(errorOf([Buffer.concat([Buffer.from([0xFF, 0xFE]), Buffer.from('<s/>', 'utf16le')])]), 'unsupported-encoding');
  assert.equal(errorOf([Buffer.from('<s/>', 'utf16le')]), 'unsupported-encoding');
  assert.equal(errorOf([Buffer.from([0, 0, 0, 0x3C, 0, 0, 0, 0x73])]), 'unsupported-encoding');
  // A BOM anywhere else is U+FEFF, which is fine in text but not between stanzas.
  assert.equal(errorOf(HEADER + '\uFEFF'), 'bad-format');
});

test('invalid UTF-8 is unsupported-encoding, also when split across chunks', () => {
  const h = Buffer.from(HEADER + '<message><body>');
  for (const seq of [[0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]]) {
    assert.equal(errorOf([Buffer.concat([h, Buffer.from(seq)])]), 'unsupported-encoding', String(seq));
    assert.equal(errorOf([h, Buffer.from(seq.slice(0, 1)), Buffer.from(seq.slice(1)), Buffer.from('x')]), 'unsupported-encoding', String(seq));
  }
});

test('attribute values and text are normalised as XML 1.0 requires', () => {
  const el = parseFragment('<a b="x\r\ny\tz\n" c="&#10;&#9;&#13;" d=\'"\' e="\'&quot;"> x\r\ny\rz&#13;</a>');
  assert.deepEqual(el.attrs, { b: 'x y z ', c: '\n\t\r', d: '"', e: '\'"' });
  assert.deepEqual(el.children, [' x\ny\nz\r']);
});

test('stanzas inherit the root scope; nested scopes redefine prefixes', () => {
  const ev = events([HEADER, "<iq xmlns:p='urn:1'><p:q xmlns:p='urn:2' p:a='1' xmlns='urn:d'><p:r/><s/></p:q><p:t/></iq>"]);
  assert.deepEqual(ev[1], ['el', ['iq', 'jabber:client', [], [
    ['q', 'urn:2', [['{urn:2}a', '1']], [['r', 'urn:2', [], []], ['s', 'urn:d', [], []]]],
    ['t', 'urn:1', [], []],
  ]]]);
  const s2s = events(["<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>", "<message xmlns='' a=''/>"]);
  assert.deepEqual(s2s[1], ['el', ['message', '', [['a', '']], []]]);
});

test('unusual but legal names and attributes', () => {
  const el = parseFragment('<é:ü xmlns:é="urn:x" __proto__="p" constructor="c" xml:space="preserve" a.b-c_d·="1"><𠀀/></é:ü>');
  assert.equal(el.name, 'ü');
  assert.equal(el.xmlns, 'urn:x');
  assert.deepEqual(Object.keys(el.attrs).sort(), ['__proto__', 'a.b-c_d·', 'constructor', 'xml:space']);
  assert.equal(el.attrs['__proto__'], 'p');
  assert.equal((el.children[0] as Element).name, '𠀀');
});

test('stream close is reported once; trailing data is ignored', () => {
  const ev = events([HEADER + '<a/></stream:stream><b/>junk', '<c/>']);
  assert.deepEqual(ev.map((e) => (e as unknown[])[0]), ['open', 'el', 'close']);
  assert.deepEqual(events(['<s:stream xmlns:s="x"/>']).map((e) => (e as unknown[])[0]), ['open', 'close']);
  assert.equal(errorOf(HEADER + '</stream:streamx>'), 'not-well-formed');
  assert.equal(errorOf(HEADER + '</stream>'), 'not-well-formed');
});

test('the parser is dead after an error and write never throws', () => {
  const ev: string[] = [];
  const p = new StreamParser({
    onStreamOpen: () => ev.push('open'), onElement: () => ev.push('el'),
    onStreamClose: () => ev.push('close'), onError: (c) => ev.push(c),
  });
  p.write(HEADER + '<a/><b></c>');
  p.write('<d/>');
  p.reset();
  p.write(HEADER + '<e/>');
  assert.deepEqual(ev, ['open', 'el', 'not-well-formed']);
  // Random garbage: every outcome is an event, never an exception.
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let k = 0; k < 300; k++) {
    const q = new StreamParser({ onStreamOpen() {}, onElement() {}, onStreamClose() {}, onError() {} });
    const buf = Buffer.from(HEADER);
    const junk = Buffer.alloc(200);
    for (let i = 0; i < junk.length; i++) junk[i] = rnd() < 0.5 ? '<>/=\'"&;:ab x!?[]-'.charCodeAt(Math.floor(rnd() * 20)) : Math.floor(rnd() * 256);
    q.write(buf);
    q.write(junk.subarray(0, 100));
    q.write(junk.subarray(100).toString('latin1'));
  }
});

test('parseFragment returns one element or throws with .condition', () => {
  assert.deepEqual(dump(parseFragment("<?xml version='1.0'?>\n<a xmlns='u'><b/>t</a>\n")), ['a', 'u', [], [['b', 'u', [], []], 't']]);
  const cond = (s: string): unknown => { try { parseFragment(s); return 'accepted'; } catch (e) { return (e as { condition: unknown }).condition; } };
  assert.equal(cond('<a/><b/>'), 'not-well-formed');
  assert.equal(cond('<a/>x'), 'not-well-formed');
  assert.equal(cond('<a>'), 'not-well-formed');
  assert.equal(cond('<a/><'), 'not-well-formed');
  assert.equal(cond(''), 'not-well-formed');
  assert.equal(cond('x<a/>'), 'not-well-formed');
  assert.equal(cond('<a>&foo;</a>'), 'restricted-xml');
  assert.equal(cond('<p:a/>'), 'bad-namespace-prefix');
  assert.equal(cond('<a>\uD800'), 'not-well-formed');
  assert.equal(cond('<a><b><c/></b></a>'), 'accepted');
  assert.equal(cond('<a><b><c/></b></a>'.replace('<c/>', '<c><d/></c>')), 'accepted');
  assert.throws(() => parseFragment('<a><b><c/></b></a>', { maxDepth: 2 }), { condition: 'policy-violation' });
});
