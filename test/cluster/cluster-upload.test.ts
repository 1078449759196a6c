// HTTP file upload (XEP-0363) in a cluster: the slot is asked on one node, the file PUT through a
// second node's HTTPS listener and downloaded through a third (as a load balancer spreading HTTP
// requests would do), with `directory` on storage the nodes share (docs/deployment.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { online, iq } from '../im/services-helpers.js';
import { request } from '../sharing/http.js';
import { clusterEnv, nodeConfig } from './cluster-helpers.js';

const UP = 'urn:xmpp:http:upload:0';

test('cluster: a slot from node1, the PUT through node2, the GET through node3', async (t) => {
  const env = await clusterEnv();
  if (!env) { skipOrFail(t, 'PostgreSQL or Redis is not available'); return; }
  const shared = mkdtempSync(join(tmpdir(), 'magpie-shared-uploads-'));
  const nodes: TestServer[] = [];
  try {
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startTestServer({ ...nodeConfig(env, `up-node${i}`), modules: { options: { 'http-upload': { directory: shared } } } }));
    }
    await nodes[0]!.addUser('alice', 'pw');
    const a = await online(nodes[0]!, 'alice', 'pw');
    const data = randomBytes(4096);
    const r = await iq(a, "type='get' to='upload.localhost'", `<request xmlns='${UP}' filename='photo.png' size='${data.length}' content-type='image/png'/>`);
    assert.equal(r.attr('type'), 'result', r.toString());
    const slot = r.getChild('slot', UP)!;
    // Same path on every node: only the port (the node behind the balancer) changes.
    const on = (url: string, node: TestServer): string => url.replace(/:\d+\//, `:${node.server.port('https')}/`);
    const put = on(slot.getChild('put')!.attr('url')!, nodes[1]!);
    const get = on(slot.getChild('get')!.attr('url')!, nodes[2]!);
    assert.equal((await request(put, { method: 'PUT', body: data, headers: { 'content-type': 'image/png' } })).status, 201);
    const g = await request(get);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, data);
    // The slot is used up on every node, not just the one that took the PUT.
    assert.equal((await request(on(put, nodes[0]!), { method: 'PUT', body: data, headers: { 'content-type': 'image/png' } })).status, 409);
  } finally {
    for (const n of nodes) await n.stop();
    await env.cleanup();
    rmSync(shared, { recursive: true, force: true });
  }
});
