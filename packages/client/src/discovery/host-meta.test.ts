import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { discoverEndpoints, parseHostMeta } from './host-meta.js';

describe('XEP-0156 host-meta', () => {
  it('reads both formats, ignores other relations and wrong schemes', () => {
    const json = JSON.stringify({ links: [
      { rel: 'urn:xmpp:alt-connections:websocket', href: 'wss://x.example/ws' },
      { rel: 'urn:xmpp:alt-connections:xbosh', href: 'https://x.example/bosh' },
      { rel: 'urn:xmpp:alt-connections:websocket', href: 'javascript:alert(1)' },
      { rel: 'other', href: 'wss://nope' },
    ] });
    assert.deepEqual(parseHostMeta(json, true), { websocket: ['wss://x.example/ws'], bosh: ['https://x.example/bosh'] });
    const xrd = `<?xml version='1.0'?><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='urn:xmpp:alt-connections:xbosh' href='https://x.example/bosh'/></XRD>`;
    assert.deepEqual(parseHostMeta(xrd, false), { websocket: [], bosh: ['https://x.example/bosh'] });
  });
  it('tries JSON then XML, and gives empty lists when neither answers', async () => {
    const asked: string[] = [];
    const fetchFn = (async (url: string) => {
      asked.push(url);
      if (url.endsWith('.json')) return new Response('nope', { status: 404 });
      return new Response(`<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='urn:xmpp:alt-connections:websocket' href='wss://e.example/xmpp'/></XRD>`);
    }) as typeof fetch;
    assert.deepEqual(await discoverEndpoints('e.example', { fetch: fetchFn }), { websocket: ['wss://e.example/xmpp'], bosh: [] });
    assert.deepEqual(asked, ['https://e.example/.well-known/host-meta.json', 'https://e.example/.well-known/host-meta']);
    const failing = (async () => { throw new Error('offline'); }) as typeof fetch;
    assert.deepEqual(await discoverEndpoints('e.example', { fetch: failing }), { websocket: [], bosh: [] });
  });
});
