// One-to-one chat: header with presence, typing notice and block/unblock, the history from the
// archive (loaded on open, earlier pages on request), and the composer.

import { useEffect } from 'preact/hooks';
import type { Session } from '../session.js';
import type { Action, State } from '../state.js';
import { SHOW_LABEL } from '../text.js';
import { MessageList } from './MessageList.js';
import { Composer } from './Composer.js';

interface Props { jid: string; state: State; session: Session; dispatch: (a: Action) => void }

export function ChatView({ jid, state, session, dispatch }: Props) {
  const conv = state.conversations[jid];
  const contact = state.contacts[jid];
  const blocked = state.blocked.includes(jid);
  const name = contact?.name || jid;
  useEffect(() => { if (!conv?.history.loaded) void session.loadHistory(jid); }, [jid]);
  const fail = (what: string) => (e: Error): void => dispatch({ type: 'notice', text: `${what} failed: ${e.message}` });
  return (
    <section class="chat" aria-label={`Chat with ${name}`}>
      <header class="pane-head">
        <button type="button" class="back" aria-label="Back to contacts" onClick={() => dispatch({ type: 'close' })}>←</button>
        <div class="who">
          <h2>{name}</h2>
          <span class="presence" data-show={contact?.show ?? 'offline'}>
            {contact ? SHOW_LABEL[contact.show] : 'Not in your contacts'}{contact?.status ? ` — ${contact.status}` : ''}
          </span>
        </div>
        {blocked
          ? <button type="button" class="secondary" onClick={() => { session.unblock(jid).catch(fail('Unblocking')); }}>Unblock</button>
          : <button type="button" class="secondary danger" onClick={() => { session.block(jid).catch(fail('Blocking')); }}>Block</button>}
      </header>
      {conv?.history.loaded && !conv.history.complete
        ? <button type="button" class="link earlier" onClick={() => { void session.loadHistory(jid); }}>Load earlier messages</button> : null}
      <MessageList lines={conv?.lines ?? []} label={`Messages with ${name}`} nameOf={(l) => (l.outgoing ? 'You' : name)} />
      <p class="typing" role="status" aria-live="polite">{conv?.peerState === 'composing' ? `${name} is typing…` : conv?.peerState === 'paused' ? `${name} stopped typing.` : ''}</p>
      {blocked ? <p class="hint">You blocked {jid}: neither of you sees the other's messages or presence.</p> : null}
      <Composer label={`Message to ${name}`} disabled={blocked}
        onSend={(body) => session.sendChat(jid, body)}
        onFile={(file) => session.sendFile({ kind: 'chat', jid }, file)}
        onChatState={(s) => session.chatState(jid, s)} />
    </section>
  );
}
