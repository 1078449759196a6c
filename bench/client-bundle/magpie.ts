// The login-and-message job with @magpie/client: WebSocket login, one chat message, stop.
import { createClient } from '@magpie/client';
import { messages } from '@magpie/client/plugins/messages';

export async function run(service: string, jid: string, password: string, to: string): Promise<void> {
  const client = createClient({ jid, password, service });
  await client.start();
  client.use(messages).send(to, 'hello');
  await client.stop();
}
