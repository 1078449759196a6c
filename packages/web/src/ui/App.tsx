// The root: the login screen until a session is online, then the sidebar and the open
// conversation. On a narrow screen only one of the two is shown (the `has-active` class).

import { useEffect, useState } from 'preact/hooks';
import { AuthError } from '@magpie/client';
import type { Store } from '../store.js';
import { unreadTotal, type State } from '../state.js';
import { Session } from '../session.js';
import { findEndpoints } from '../endpoint.js';
import { Login } from './Login.js';
import { Sidebar } from './Sidebar.js';
import { ChatView } from './ChatView.js';
import { RoomView } from './RoomView.js';
import { ConnectionStatus } from './ConnectionStatus.js';

function useStore(store: Store): State {
  const [state, setState] = useState(store.state);
  useEffect(() => store.subscribe(setState), [store]);
  return state;
}

export function App({ store }: { store: Store }) {
  const state = useStore(store);
  const [session, setSession] = useState<Session | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const n = unreadTotal(state);
    document.title = n ? `(${n}) Magpie` : 'Magpie';
  }, [state]);

  const login = async (jid: string, password: string): Promise<void> => {
    setBusy(true);
    store.dispatch({ type: 'notice', text: undefined });
    let s: Session | undefined;
    try {
      const domain = jid.split('@')[1] ?? '';
      const service = await findEndpoints(domain, location);
      s = new Session({ jid, password, service, dispatch: store.dispatch, getState: () => store.state });
      await s.start();
      setSession(s);
    } catch (e) {
      void s?.stop();
      store.dispatch({ type: 'logout' });
      store.dispatch({ type: 'notice', text: e instanceof AuthError ? 'Login failed: wrong address or password.' : `Could not connect: ${(e as Error).message}` });
    } finally { setBusy(false); }
  };

  const logout = async (): Promise<void> => {
    const s = session;
    setSession(undefined);
    store.dispatch({ type: 'logout' });
    await s?.stop();
  };

  if (!session) return <Login busy={busy} notice={state.notice} onLogin={login} />;

  const active = state.active;
  return (
    <div class={`shell${active ? ' has-active' : ''}`}>
      <ConnectionStatus status={state.status} attempt={state.attempt} onReconnect={() => { void session.start().catch(() => {}); }} />
      {state.notice && state.status !== 'offline' ? <p class="notice" role="alert">{state.notice}
        <button type="button" class="link" aria-label="Dismiss" onClick={() => store.dispatch({ type: 'notice', text: undefined })}>×</button></p> : null}
      <div class="columns">
        <Sidebar state={state} session={session} dispatch={store.dispatch} onLogout={logout} />
        <main class="pane" aria-label="Conversation">
          {active?.kind === 'chat' ? <ChatView key={active.jid} jid={active.jid} state={state} session={session} dispatch={store.dispatch} />
            : active?.kind === 'room' && state.rooms[active.jid] ? <RoomView key={active.jid} room={state.rooms[active.jid]!} session={session} dispatch={store.dispatch} />
            : <p class="empty">Choose a contact or a room.</p>}
        </main>
      </div>
    </div>
  );
}
