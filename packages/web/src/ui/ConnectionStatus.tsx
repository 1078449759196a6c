// The connection state, always visible and announced to screen readers (role=status).
import type { ConnStatus } from '../state.js';

const LABEL: Record<ConnStatus, string> = {
  online: 'Online', connecting: 'Connecting…', reconnecting: 'Connection lost, reconnecting…', offline: 'Offline', disconnecting: 'Signing out…',
};

export function ConnectionStatus({ status, attempt, onReconnect }: { status: ConnStatus; attempt: number; onReconnect: () => void }) {
  return (
    <div class={`conn conn-${status}`} role="status" aria-live="polite" data-status={status}>
      <span class="dot" aria-hidden="true" />
      <span class="conn-text">{LABEL[status]}{status === 'reconnecting' && attempt > 1 ? ` (attempt ${attempt})` : ''}</span>
      {status === 'offline' ? <button type="button" onClick={onReconnect}>Reconnect</button> : null}
    </div>
  );
}
