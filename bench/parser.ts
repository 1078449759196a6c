// Benchmark: Magpie's XMPP stream parser (RFC 6120 §11 restricted XML, validating and
// namespace-aware, building a tree per stanza) against ltx (the non-validating parser behind
// xmpp.js) and saxes (a conforming XML parser), on the same realistic client stream.
//
// Run: node --conditions=magpie-src --import tsx bench/parser.ts [stanzas] [rounds]
// Every contender gets the same 16 KiB byte chunks and decodes them itself (TextDecoder in stream
// mode for ltx and saxes) and builds a tree per stanza, since that is the work a server does;
// "ltx events" only counts ltx's events, as a ceiling for any parser built on it.

import { TextDecoder } from 'node:util';
// @ts-expect-error ltx ships no type declarations; the two classes used are typed below.
import * as ltx from 'ltx';
import { SaxesParser } from 'saxes';
import { Element } from '../packages/core/src/xml/element.js';
import { StreamParser } from '../packages/core/src/xml/parser.js';

const STANZAS = Number(process.argv[2] ?? 20000);
const ROUNDS = Number(process.argv[3] ?? 7);
const CHUNK = 16384;

// ---- a seeded, realistic stream --------------------------------------------------------

let seed = 42;
const rnd = (): number => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; };
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
const WORDS = ['hello', 'there', 'meeting', 'at', 'noon', 'tomorrow', 'ok', 'see', 'you', '&amp;', 'fine', 'thanks',
  'Grüße', 'ça', 'va', '😀', '中文', 'привет', 'https://example.org/a?b=c&amp;d=e', '&lt;3'];
const sentence = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const jid = (): string => pick(['juliet', 'romeo', 'nurse', 'mercutio', 'benvolio']) + '@' + pick(['capulet.lit', 'montague.lit']) + '/' + pick(['balcony', 'orchard', 'phone-3f2a']);
const id = (): string => Math.floor(rnd() * 2 ** 32).toString(36) + '-' + Math.floor(rnd() * 1e6);

function message(): string {
  let s = `<message from='${jid()}' to='${jid()}' type='chat' id='${id()}' xml:lang='en'>` +
    `<body>${sentence(5 + Math.floor(rnd() * rnd() * 220))}</body><thread>${id()}</thread>` +
    "<active xmlns='http://jabber.org/protocol/chatstates'/>" +
    `<origin-id xmlns='urn:xmpp:sid:0' id='${id()}'/><request xmlns='urn:xmpp:receipts'/>`;
  if (rnd() < 0.4) s += `<delay xmlns='urn:xmpp:delay' from='capulet.lit' stamp='2002-09-10T23:08:25Z'>Offline Storage</delay>`;
  if (rnd() < 0.2) s += `<x xmlns='jabber:x:oob'><url>https://upload.capulet.lit/${id()}/photo.jpg</url></x>`;
  return s + '</message>';
}

function presence(): string {
  return `<presence from='${jid()}' id='${id()}'><show>${pick(['away', 'chat', 'dnd', 'xa'])}</show>` +
    `<status>${sentence(3 + Math.floor(rnd() * 10))}</status><priority>${Math.floor(rnd() * 10)}</priority>` +
    "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://magpie.example/caps' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>" +
    `<x xmlns='vcard-temp:x:update'><photo>${'01b87fcd030b72895ff8e88db57ec525450f000d'}</photo></x></presence>`;
}

function iq(): string {
  if (rnd() < 0.5) {
    let items = '';
    for (let i = 0, n = 1 + Math.floor(rnd() * 12); i < n; i++) {
      items += `<item jid='${jid().split('/')[0]}' name='${pick(WORDS)}' subscription='both'><group>${pick(['Friends', 'Family', 'Work'])}</group></item>`;
    }
    return `<iq type='result' id='${id()}' to='${jid()}'><query xmlns='jabber:iq:roster' ver='ver${id()}'>${items}</query></iq>`;
  }
  let f = '';
  for (let i = 0, n = 3 + Math.floor(rnd() * 20); i < n; i++) f += `<feature var='urn:xmpp:${pick(WORDS.slice(0, 8))}:${i}'/>`;
  return `<iq type='result' id='${id()}' from='capulet.lit' to='${jid()}'><query xmlns='http://jabber.org/protocol/disco#info'>` +
    `<identity category='server' type='im' name='Magpie'/>${f}</query></iq>`;
}

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "from='capulet.lit' id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' version='1.0' xml:lang='en'>";
const parts = [HEADER];
const sizes = { min: Infinity, max: 0, sum: 0 };
for (let i = 0; i < STANZAS; i++) {
  const r = rnd();
  let s = r < 0.6 ? message() : r < 0.85 ? presence() : iq();
  while (Buffer.byteLength(s) > 2000) s = presence(); // keep to the 200-2000 byte range
  const n = Buffer.byteLength(s);
  sizes.min = Math.min(sizes.min, n); sizes.max = Math.max(sizes.max, n); sizes.sum += n;
  parts.push(s, rnd() < 0.1 ? '\n' : '');
}
const stream = Buffer.from(parts.join(''));
const chunks: Buffer[] = [];
for (let i = 0; i < stream.length; i += CHUNK) chunks.push(stream.subarray(i, i + CHUNK));
const MB = stream.length / 1e6;

// ---- contenders ------------------------------------------------------------------------

function magpie(): number {
  let n = 0;
  const p = new StreamParser({
    onStreamOpen() {}, onStreamClose() {}, onElement() { n++; },
    onError(c, t) { throw new Error(c + ': ' + t); },
  });
  for (const c of chunks) p.write(c);
  return n;
}

type LtxElement = { name: string; parent: LtxElement | null; cnode(c: LtxElement): LtxElement; t(s: string): void };
const LtxSax = (ltx.Parser as unknown as { prototype: { DefaultParser: new () => NodeJS.EventEmitter & { write(s: string): void } } }).prototype.DefaultParser;
const LtxEl = ltx.Element as unknown as new (name: string, attrs: Record<string, string>) => LtxElement;

function ltxTree(): number {
  // What @xmpp/xml does on top of ltx: an ltx.Element per start tag, emitted at depth 1.
  let n = 0;
  let root: LtxElement | null = null;
  let cur: LtxElement | null = null;
  const p = new LtxSax();
  p.on('startElement', (name: string, attrs: Record<string, string>) => {
    const el = new LtxEl(name, attrs);
    if (!root) root = el; else if (cur !== root) cur!.cnode(el);
    cur = el;
  });
  p.on('endElement', () => {
    if (cur!.parent && cur!.parent !== root) cur = cur!.parent;
    else { n++; cur = root; }
  });
  p.on('text', (t: string) => { if (cur !== root) cur!.t(t); });
  const dec = new TextDecoder();
  for (const c of chunks) p.write(dec.decode(c, { stream: true }));
  return n;
}

function ltxEvents(): number {
  let n = 0;
  let depth = 0;
  const p = new LtxSax();
  p.on('startElement', () => { depth++; });
  p.on('endElement', () => { if (--depth === 1) n++; });
  p.on('text', () => {});
  const dec = new TextDecoder();
  for (const c of chunks) p.write(dec.decode(c, { stream: true }));
  return n;
}

function saxesTree(): number {
  let n = 0;
  const stack: Element[] = [];
  const p = new SaxesParser({ xmlns: true });
  p.on('error', (e) => { throw e; });
  p.on('opentag', (tag) => {
    const el = new Element(tag.local, tag.uri);
    for (const a of Object.values(tag.attributes)) {
      if (a.uri === 'http://www.w3.org/2000/xmlns/') continue;
      el.attrs[a.uri === '' ? a.local : a.prefix === 'xml' ? 'xml:' + a.local : '{' + a.uri + '}' + a.local] = a.value;
    }
    if (stack.length > 1) stack[stack.length - 1]!.children.push(el);
    stack.push(el);
  });
  p.on('closetag', () => { stack.pop(); if (stack.length === 1) n++; });
  p.on('text', (t) => { if (stack.length > 1) stack[stack.length - 1]!.children.push(t); });
  const dec = new TextDecoder();
  for (const c of chunks) p.write(dec.decode(c, { stream: true }));
  return n;
}

// ---- measure ---------------------------------------------------------------------------

const contenders: [string, () => number][] = [
  ['magpie', magpie], ['ltx+tree', ltxTree], ['ltx events', ltxEvents], ['saxes+tree', saxesTree],
];
const results: Record<string, { mbps: number; ms: number; best: number; count: number }> = {};
const times = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
const counts = new Map<string, number>();
for (const [, fn] of contenders) fn(); // warm up every JIT before timing any
// Interleave the contenders round by round, so machine noise (GC, other processes) hits all alike.
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of contenders) {
    const t0 = performance.now();
    counts.set(name, fn());
    times.get(name)!.push(performance.now() - t0);
  }
}
for (const [name] of contenders) {
  const t = times.get(name)!.sort((a, b) => a - b);
  const ms = t[Math.floor(t.length / 2)]!; // median: robust to a GC pause in one round
  results[name] = { mbps: +(MB / (ms / 1000)).toFixed(1), ms: +ms.toFixed(1), best: +(MB / (t[0]! / 1000)).toFixed(1), count: counts.get(name)! };
}
const m = results['magpie']!.mbps;
const summary = {
  bench: 'xml-parser', node: process.version, bytes: stream.length, stanzas: STANZAS, chunk: CHUNK, rounds: ROUNDS,
  mbps: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.mbps])),
  bestMbps: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.best])),
  ratio: {
    'magpie/ltx+tree': +(m / results['ltx+tree']!.mbps).toFixed(2),
    'magpie/ltx events': +(m / results['ltx events']!.mbps).toFixed(2),
    'magpie/saxes+tree': +(m / results['saxes+tree']!.mbps).toFixed(2),
  },
};
console.log(JSON.stringify(summary));
console.log(`\n${MB.toFixed(1)} MB, ${STANZAS} stanzas (${sizes.min}-${sizes.max} bytes, mean ${Math.round(sizes.sum / STANZAS)}), ` +
  `${CHUNK}-byte chunks, median of ${ROUNDS} interleaved rounds`);
console.log('parser        MB/s (median)  ms (median)  MB/s (best)  stanzas  magpie/this');
for (const [name, r] of Object.entries(results)) {
  const ratio = name === 'magpie' ? '' : (m / r.mbps).toFixed(2) + 'x';
  console.log(`${name.padEnd(12)} ${String(r.mbps).padStart(14)} ${String(r.ms).padStart(12)} ${String(r.best).padStart(12)} ${String(r.count).padStart(8)}  ${ratio}`);
}
