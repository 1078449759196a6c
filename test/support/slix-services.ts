// Drives test/support/slix_services.py: slixmpp with its vcard-temp, last activity and entity
// capabilities plugins (Debian's python3-slixmpp, run with /usr/bin/python3).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SlixEvent } from './slixmpp.js';

export { slixmppAvailable } from './slixmpp.js';

const SCRIPT = fileURLToPath(new URL('./slix_services.py', import.meta.url));

export class SlixServices {
  events: SlixEvent[] = [];
  stderr = '';
  private proc: ChildProcess;
  private consumed = 0;
  private waiters: (() => void)[] = [];

  constructor(cfg: { jid: string; password: string; port: number; caps_node?: string }) {
    this.proc = spawn('/usr/bin/python3', [SCRIPT, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try { this.events.push(JSON.parse(l)); } catch { this.stderr += l + '\n'; }
      const w = this.waiters; this.waiters = []; for (const f of w) f();
    });
    this.proc.stderr!.on('data', (d) => { this.stderr += d; });
  }

  /** The next event (after those already consumed) matching pred. */
  async next(pred: (e: SlixEvent) => boolean, ms = 15000): Promise<SlixEvent> {
    const end = Date.now() + ms;
    for (;;) {
      for (let i = this.consumed; i < this.events.length; i++) {
        if (pred(this.events[i]!)) { this.consumed = i + 1; return this.events[i]!; }
      }
      if (Date.now() > end) throw new Error(`slixmpp: timed out; events: ${JSON.stringify(this.events)}\nstderr: ${this.stderr.slice(-3000)}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  /** Send a command and wait for its answer event (or an error event for it). */
  async run(cmd: Record<string, unknown>, answer: string, ms = 15000): Promise<SlixEvent> {
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
    return this.next((e) => e.event === answer || (e.event === 'error' && e.cmd === cmd.cmd), ms);
  }

  async quit(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.stdin!.write(JSON.stringify({ cmd: 'quit' }) + '\n');
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await done; clearTimeout(t);
  }
}
