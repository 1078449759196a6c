import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sameOriginWebSocket } from './endpoint.js';

describe('web client endpoint', () => {
  it('uses wss on an https page and ws on an http one, same host and port', () => {
    assert.equal(sameOriginWebSocket({ protocol: 'https:', host: 'chat.example:5443' }), 'wss://chat.example:5443/xmpp-websocket');
    assert.equal(sameOriginWebSocket({ protocol: 'http:', host: '127.0.0.1:5280' }), 'ws://127.0.0.1:5280/xmpp-websocket');
  });
});
