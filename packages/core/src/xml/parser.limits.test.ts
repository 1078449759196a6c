// Resource limits and stream restarts for the XMPP stream parser: RFC 6120 §13.12 (denial of
// service: limits on stanza size and nesting), §11.1 (restricted XML: no DTDs, so no entity
// expansion), §5.3.3 / §6.4.6 (stream restart after STARTTLS and SASL).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamParser, type ParserHandler, type ParserLimits } from './parser.js';

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

interface Run { events: string[]; parser: StreamParser; written: number }

/** Feed chunks until the parser reports an error; `written` counts bytes handed over. */
function run(chunks: Iterable<string | Uint8Array>, limits?: Partial<ParserLimits>, extra?: Partial<ParserHandler>): Run {
  const events: string[] = [];
  let failed = false;
  const parser = new StreamParser({
    onStreamOpen: () => events.push('open'),
    onElement: (e) => { events.push('el:' + e.name); extra?.onElement?.(e); },
    onStreamClose: () => events.push('close'),
    onError: (c) => { events.push('error:' + c); failed = true; },
  }, limits);
  let written = 0;
  for (const c of chunks) {
    if (failed) break;
    parser.write(c);
    written += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
  }
  return { events, parser, written };
}

function* big(prefix: string, filler: string, total: number, chunk: number): Generator<Uint8Array> {
  yield Buffer.from(HEADER + prefix);
  const block = Buffer.from(filler.repeat(Math.ceil(chunk / filler.length))).subarray(0, chunk);
  for (let n = 0; n < total; n += chunk) yield block;
}

const LIMIT = 262144;
const CHUNK = 65536;

test('a 10 MB stanza in 64 KiB chunks is rejected once it passes the limit', () => {
  for (const prefix of ['<message><body>', "<message id='", '<message><body>&amp;', '<message><![CDATA[', '<message><x a="1"']) {
    const filler = prefix.endsWith('"1"') ? ' ' : 'é'; // whitespace inside a tag, multi-byte text elsewhere
    const r = run(big(prefix, filler, 10 * 1024 * 1024, CHUNK));
    assert.deepEqual(r.events, ['open', 'error:policy-violation'], prefix);
    assert.ok(r.written <= LIMIT + 2 * CHUNK, prefix + ': consumed ' + r.written);
    assert.ok(r.parser.bufferedBytes === 0);
  }
});

test('tiny chunks cost linear time and still hit the limit', () => {
  const limits = { maxStanzaBytes: 60000 };
  const t0 = performance.now();
  function* bytes(): Generator<string> {
    yield HEADER + "<message a='";
    for (let i = 0; i < 70000; i++) yield i % 7 === 0 ? '>' : 'x'; // '>' inside quotes never ends the tag
  }
  const r = run(bytes(), limits);
  assert.deepEqual(r.events, ['open', 'error:policy-violation']);
  function* tags(): Generator<string> {
    yield HEADER + '<message><body>';
    for (let i = 0; i < 70000; i++) yield i % 2 ? ']' : '\r';
  }
  assert.deepEqual(run(tags(), limits).events, ['open', 'error:policy-violation']);
  assert.ok(performance.now() - t0 < 3000, 'took ' + (performance.now() - t0) + ' ms');
});

test('stanza bytes are counted exactly in UTF-8', () => {
  const stanza = '<message><body>😀 中文 é</body></message>';
  const size = Buffer.byteLength(stanza);
  const bytes = Buffer.from(HEADER + stanza + '  ' + stanza);
  for (const split of [0, HEADER.length + 17, HEADER.length + 20, bytes.length - 3]) {
    const parts = split === 0 ? [bytes] : [bytes.subarray(0, split), bytes.subarray(split)];
    assert.deepEqual(run(parts, { maxStanzaBytes: size }).events, ['open', 'el:message', 'el:message'], 'split ' + split);
    assert.deepEqual(run(parts, { maxStanzaBytes: size - 1 }).events, ['open', 'error:policy-violation'], 'split ' + split);
  }
  // Limits apply per stanza, not to the stream: many stanzas in one chunk are fine.
  assert.equal(run([HEADER + (stanza + '\n').repeat(1000)], { maxStanzaBytes: size }).events.length, 1001);
});

test('100,000 nested elements are rejected quickly', () => {
  const t0 = performance.now();
  const deep = '<a>'.repeat(100000);
  assert.deepEqual(run([HEADER + deep]).events, ['open', 'error:policy-violation']);
  const chunks: string[] = [HEADER];
  for (let i = 0; i < deep.length; i += 16384) chunks.push(deep.slice(i, i + 16384));
  assert.deepEqual(run(chunks, { maxStanzaBytes: Infinity }).events, ['open', 'error:policy-violation']);
  assert.deepEqual(run([HEADER + '<a>'.repeat(64) + '</a>'.repeat(64)]).events, ['open', 'el:a']);
  assert.deepEqual(run([HEADER + '<a>'.repeat(65)]).events, ['open', 'error:policy-violation']);
  assert.ok(performance.now() - t0 < 1000);
});

test('attribute count and name length limits', () => {
  const attrs = (n: number): string => Array.from({ length: n }, (_, i) => ` a${i}='${i}'`).join('');
  assert.deepEqual(run([HEADER + '<x' + attrs(64) + '/>']).events, ['open', 'el:x']);
  assert.deepEqual(run([HEADER + '<x' + attrs(65) + '/>']).events, ['open', 'error:policy-violation']);
  assert.deepEqual(run([HEADER + '<' + 'n'.repeat(256) + '/>']).events, ['open', 'el:' + 'n'.repeat(256)]);
  assert.deepEqual(run([HEADER + '<' + 'n'.repeat(257) + '/>']).events, ['open', 'error:policy-violation']);
  assert.deepEqual(run([HEADER + '<x ' + 'n'.repeat(257) + "='1'/>"]).events, ['open', 'error:policy-violation']);
  assert.deepEqual(run([HEADER + '<x ' + 'n'.repeat(300)]).events, ['open', 'error:policy-violation']);
  assert.deepEqual(run([HEADER + '<message>&#x' + '0'.repeat(70)]).events, ['open', 'error:not-well-formed']);
});

test('the stream header has its own limit, also when it never completes', () => {
  const long = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='" + 'x'.repeat(9000) + "'>";
  assert.deepEqual(run([long]).events, ['error:policy-violation']);
  assert.deepEqual(run([long], { maxHeaderBytes: 10000 }).events, ['open']);
  function* slow(): Generator<string> { for (let i = 0; i < 100; i++) yield long.slice(i * 100, i * 100 + 100); }
  const r = run(slow());
  assert.deepEqual(r.events, ['error:policy-violation']);
  assert.ok(r.written <= 8192 + 100);
  assert.deepEqual(run([' '.repeat(9000)]).events, ['error:policy-violation']);
});

test('whitespace keepalives never accumulate', () => {
  const r = run([HEADER, ...Array.from({ length: 200 }, () => ' \n'.repeat(32768))]);
  assert.deepEqual(r.events, ['open']);
  assert.equal(r.parser.bufferedBytes, 0);
});

test('billion laughs is restricted-xml before any expansion', () => {
  const lol = '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' +
    Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n') +
    "\n]>\n<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol9;";
  assert.deepEqual(run([lol]).events, ['error:restricted-xml']);
  assert.deepEqual(run([HEADER + '<message><body>&lol9;</body></message>']).events, ['open', 'error:restricted-xml']);
});

test('reset() inside a callback discards the rest of the chunk', () => {
  const events: string[] = [];
  const parser: StreamParser = new StreamParser({
    onStreamOpen: () => events.push('open'),
    onElement: (e) => { events.push('el:' + e.name); if (e.name === 'proceed') parser.reset(); },
    onStreamClose: () => events.push('close'),
    onError: (c) => events.push('error:' + c),
  });
  parser.write(HEADER + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message><body>injected</body></message><x");
  assert.equal(parser.bufferedBytes, 0);
  parser.write("<?xml version='1.0'?>" + HEADER + '<iq/>');
  assert.deepEqual(events, ['open', 'el:proceed', 'open', 'el:iq']);
});

test('reset() between writes expects a new header; stop() ends parsing', () => {
  const events: string[] = [];
  const p = new StreamParser({
    onStreamOpen: () => events.push('open'), onElement: (e) => events.push('el:' + e.name),
    onStreamClose: () => events.push('close'), onError: (c) => events.push('error:' + c),
  });
  p.write(HEADER + '<a/><b');
  assert.equal(p.bufferedBytes, 2);
  p.reset();
  assert.equal(p.bufferedBytes, 0);
  p.write(Buffer.from([0xEF, 0xBB, 0xBF]));
  p.write("<?xml version='1.0'?>" + HEADER + '<c/>');
  p.stop();
  p.write('<d/>');
  p.reset();
  p.write(HEADER + '<e/>');
  assert.deepEqual(events, ['open', 'el:a', 'open', 'el:c']);
});

test('an exception from a callback reaches the caller and stops the parser', () => {
  const events: string[] = [];
  const p = new StreamParser({
    onStreamOpen: () => events.push('open'),
    onElement: (e) => { events.push('el:' + e.name); if (e.name === 'boom') throw new Error('app bug'); },
    onStreamClose: () => events.push('close'),
    onError: (c) => events.push('error:' + c),
  });
  assert.throws(() => p.write(HEADER + '<boom/><after/>'), /app bug/);
  p.write('<later/>');
  assert.deepEqual(events, ['open', 'el:boom']);
});

test('limits given as undefined keep their defaults; whitespace CDATA between stanzas is not counted', () => {
  assert.deepEqual(run([HEADER + '<a>'.repeat(65)], { maxDepth: undefined }).events, ['open', 'error:policy-violation']);
  const cdata = '<![CDATA[ ]]>'.repeat(100);
  assert.deepEqual(run([HEADER + cdata + '<a/>' + cdata], { maxStanzaBytes: 10 }).events, ['open', 'el:a']);
});

test('bytes after the stream end are ignored, even invalid ones', () => {
  const r = run([Buffer.from(HEADER + '</stream:stream>'), Buffer.from([0xFF, 0xC0, 0]), '<x>']);
  assert.deepEqual(r.events, ['open', 'close']);
});
