// Login: JID and password. Only the JID is remembered (localStorage), never the password.
import { useState } from 'preact/hooks';
import { looksLikeJid } from '../text.js';

const KEY = 'magpie.jid';

function remembered(): string {
  try { return localStorage.getItem(KEY) ?? ''; } catch { return ''; }
}

export function Login({ busy, notice, onLogin }: { busy: boolean; notice: string | undefined; onLogin: (jid: string, password: string) => void }) {
  const [jid, setJid] = useState(remembered);
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const submit = (e: Event): void => {
    e.preventDefault();
    const j = jid.trim();
    if (!looksLikeJid(j)) { setProblem('Enter your address as name@server.'); return; }
    setProblem(undefined);
    try { localStorage.setItem(KEY, j); } catch { /* private mode: nothing remembered */ }
    onLogin(j, password);
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Magpie</h1>
        <label for="login-jid">Address (JID)</label>
        <input id="login-jid" name="jid" type="text" inputMode="email" autoComplete="username" autoCapitalize="off" spellcheck={false}
          placeholder="you@example.org" value={jid} onInput={(e) => setJid((e.target as HTMLInputElement).value)} required />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} required />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {problem || notice ? <p class="error" role="alert">{problem ?? notice}</p> : null}
      </form>
    </main>
  );
}
