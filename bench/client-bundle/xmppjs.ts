// The login-and-message job with @xmpp/client (xmpp.js): WebSocket login, one chat message, stop.
import { client, xml } from '@xmpp/client';

export async function run(service: string, jid: string, password: string, to: string): Promise<void> {
  const [username, domain] = jid.split('@') as [string, string];
  const xmpp = client({ service, domain, username, password });
  await xmpp.start();
  await xmpp.send(xml('message', { to, type: 'chat' }, xml('body', {}, 'hello')));
  await xmpp.stop();
}
