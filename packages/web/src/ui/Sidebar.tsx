// The sidebar: own presence, subscription requests, contacts with presence and unread counts,
// the add-contact form, rooms and the join-room form.

import { useState } from 'preact/hooks';
import { JID } from '@magpie/client';
import type { Session } from '../session.js';
import { contactList, type Action, type OwnShow, type State } from '../state.js';
import { SHOW_LABEL } from '../text.js';

interface Props { state: State; session: Session; dispatch: (a: Action) => void; onLogout: () => void }

const value = (e: Event): string => (e.target as HTMLInputElement).value;

function OwnPresence({ state, session }: { state: State; session: Session }) {
  const [show, setShow] = useState<OwnShow>(state.own.show);
  const [status, setStatus] = useState(state.own.status);
  return (
    <form class="own" onSubmit={(e) => { e.preventDefault(); session.setPresence(show, status.trim()); }}>
      <label class="sr" for="own-show">Your availability</label>
      <select id="own-show" value={show} onChange={(e) => setShow(value(e) as OwnShow)}>
        <option value="available">Online</option>
        <option value="away">Away</option>
        <option value="dnd">Do not disturb</option>
      </select>
      <label class="sr" for="own-status">Status message</label>
      <input id="own-status" type="text" maxLength={200} placeholder="Status message" value={status} onInput={(e) => setStatus(value(e))} />
      <button type="submit">Set</button>
    </form>
  );
}

function AddContact({ session, dispatch }: { session: Session; dispatch: (a: Action) => void }) {
  const [jid, setJid] = useState('');
  const submit = (e: Event): void => {
    e.preventDefault();
    const j = JID.tryParse(jid.trim());
    if (!j || !j.local) { dispatch({ type: 'notice', text: 'Enter a contact address as name@server.' }); return; }
    session.addContact(j.bareString()).then(() => setJid(''), (err: Error) => dispatch({ type: 'notice', text: `Could not add ${j.bareString()}: ${err.message}` }));
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <label for="add-jid">Add a contact</label>
      <div class="row">
        <input id="add-jid" type="text" autoCapitalize="off" spellcheck={false} placeholder="friend@example.org" value={jid} onInput={(e) => setJid(value(e))} />
        <button type="submit">Add</button>
      </div>
    </form>
  );
}

function JoinRoom({ state, session, dispatch }: { state: State; session: Session; dispatch: (a: Action) => void }) {
  const [room, setRoom] = useState('');
  const [nick, setNick] = useState(() => state.me?.split('@')[0] ?? '');
  const submit = (e: Event): void => {
    e.preventDefault();
    const j = JID.tryParse(room.trim());
    if (!j || !j.local || !nick.trim()) { dispatch({ type: 'notice', text: 'Enter a room address (room@conference.server) and a nickname.' }); return; }
    const jid = j.bareString().toLowerCase();
    session.joinRoom(jid, nick.trim()).then(() => { setRoom(''); dispatch({ type: 'open', view: { kind: 'room', jid } }); },
      (err: Error) => dispatch({ type: 'notice', text: `Could not join ${jid}: ${err.message}` }));
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <label for="room-jid">Join a room</label>
      <input id="room-jid" type="text" autoCapitalize="off" spellcheck={false} placeholder="room@conference.example.org" value={room} onInput={(e) => setRoom(value(e))} />
      <label for="room-nick">Nickname</label>
      <div class="row">
        <input id="room-nick" type="text" value={nick} onInput={(e) => setNick(value(e))} />
        <button type="submit">Join</button>
      </div>
    </form>
  );
}

export function Sidebar({ state, session, dispatch, onLogout }: Props) {
  const contacts = contactList(state);
  const rooms = Object.values(state.rooms);
  const open = (kind: 'chat' | 'room', jid: string): void => dispatch({ type: 'open', view: { kind, jid } });
  return (
    <aside class="sidebar" aria-label="Contacts and rooms">
      <header class="me">
        <div class="row spread">
          <strong class="me-jid">{state.me?.split('/')[0]}</strong>
          <button type="button" class="link" onClick={onLogout}>Sign out</button>
        </div>
        <OwnPresence state={state} session={session} />
      </header>

      {state.requests.length ? (
        <section class="requests" aria-labelledby="requests-h">
          <h2 id="requests-h">Requests</h2>
          <ul>
            {state.requests.map((jid) => (
              <li key={jid} class="request" data-jid={jid}>
                <span><b>{jid}</b> wants to see your presence</span>
                <span class="row">
                  <button type="button" aria-label={`Accept ${jid}`} onClick={() => session.accept(jid)}>Accept</button>
                  <button type="button" class="secondary" aria-label={`Refuse ${jid}`} onClick={() => session.refuse(jid)}>Refuse</button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section aria-labelledby="contacts-h">
        <h2 id="contacts-h">Contacts</h2>
        {contacts.length === 0 ? <p class="hint">No contacts yet.</p> : null}
        <ul class="contacts">
          {contacts.map((c) => {
            const isOpen = state.active?.kind === 'chat' && state.active.jid === c.jid;
            const presence = c.pending ? 'waiting for approval' : SHOW_LABEL[c.show];
            return (
              <li key={c.jid}>
                <button type="button" class={`contact${isOpen ? ' open' : ''}`} data-jid={c.jid} data-show={c.show} aria-current={isOpen ? 'true' : undefined}
                  aria-label={`${c.label}, ${presence}${c.status ? `: ${c.status}` : ''}${c.unread ? `, ${c.unread} unread` : ''}${c.blocked ? ', blocked' : ''}`}
                  onClick={() => open('chat', c.jid)}>
                  <span class={`dot show-${c.show}`} aria-hidden="true" />
                  <span class="who">
                    <span class="name">{c.label}</span>
                    <span class="presence">{c.blocked ? 'Blocked' : presence}{c.status ? ` — ${c.status}` : ''}</span>
                  </span>
                  {c.unread ? <span class="badge" aria-hidden="true">{c.unread}</span> : null}
                </button>
              </li>
            );
          })}
        </ul>
        <AddContact session={session} dispatch={dispatch} />
      </section>

      <section aria-labelledby="rooms-h">
        <h2 id="rooms-h">Rooms</h2>
        <ul class="contacts">
          {rooms.map((r) => {
            const isOpen = state.active?.kind === 'room' && state.active.jid === r.jid;
            return (
            <li key={r.jid}>
              <button type="button" class={`contact${isOpen ? ' open' : ''}`} data-room={r.jid} aria-current={isOpen ? 'true' : undefined} aria-label={`Room ${r.jid}${r.unread ? `, ${r.unread} unread` : ''}`} onClick={() => open('room', r.jid)}>
                <span class="dot show-room" aria-hidden="true">#</span>
                <span class="who"><span class="name">{r.jid.split('@')[0]}</span><span class="presence">{r.joined ? `${r.occupants.length} here` : 'joining…'}</span></span>
                {r.unread ? <span class="badge" aria-hidden="true">{r.unread}</span> : null}
              </button>
            </li>
            );
          })}
        </ul>
        <JoinRoom state={state} session={session} dispatch={dispatch} />
      </section>
    </aside>
  );
}
