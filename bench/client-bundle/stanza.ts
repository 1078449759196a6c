// The login-and-message job with stanza (StanzaJS): WebSocket login, one chat message, stop.
import { createClient } from 'stanza';

export function run(service: string, jid: string, password: string, to: string): Promise<void> {
  const client = createClient({ jid, password, transports: { websocket: service, bosh: false } });
  return new Promise((resolve) => {
    client.on('session:started', () => {
      client.sendMessage({ to, type: 'chat', body: 'hello' });
      client.disconnect();
      resolve();
    });
    client.connect();
  });
}
