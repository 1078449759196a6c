// A group chat room (XEP-0045): subject, occupants, messages and the composer.
import type { Session } from '../session.js';
import type { Action, RoomView as Room } from '../state.js';
import { MessageList } from './MessageList.js';
import { Composer } from './Composer.js';

export function RoomView({ room, session, dispatch }: { room: Room; session: Session; dispatch: (a: Action) => void }) {
  const name = room.jid.split('@')[0]!;
  return (
    <section class="chat room" aria-label={`Room ${room.jid}`}>
      <header class="pane-head">
        <button type="button" class="back" aria-label="Back to contacts" onClick={() => dispatch({ type: 'close' })}>←</button>
        <div class="who">
          <h2>#{name}</h2>
          <span class="presence">{room.subject || room.jid}</span>
        </div>
        <button type="button" class="secondary" onClick={() => session.leaveRoom(room.jid)}>Leave</button>
      </header>
      <details class="occupants">
        <summary>{room.occupants.length} {room.occupants.length === 1 ? 'person' : 'people'} here</summary>
        <ul aria-label="Occupants">{room.occupants.map((n) => <li key={n}>{n === room.nick ? `${n} (you)` : n}</li>)}</ul>
      </details>
      <MessageList lines={room.lines} label={`Messages in ${name}`} nameOf={(l) => l.from} />
      <Composer label={`Message to room ${name}`} disabled={!room.joined}
        onSend={(body) => session.sendRoom(room.jid, body)}
        onFile={(file) => session.sendFile({ kind: 'room', jid: room.jid }, file)} />
    </section>
  );
}
