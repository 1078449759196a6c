// Drives test/support/slix_client.py (Debian's python3-slixmpp, run with /usr/bin/python3):
// a real third-party client for interoperability tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./slix_client.py', import.meta.url));

export function slixmppAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import slixmpp'], { stdio: 'ignore' }).status === 0;
}

export interface SlixEvent { event: string; [k: string]: unknown }

export class SlixClient {
  events: SlixEvent[] = [];
  private proc: ChildProcess;
  private waiters: (() => void)[] = [];
  stderr = '';

  /** auto_authorize: slixmpp's handling of subscription requests (true approves, false denies,
      null leaves them to the test); auto_subscribe: subscribe back after approving. */
  constructor(cfg: { jid: string; password: string; port: number; direct_tls?: boolean; mechanism?: string; auto_authorize?: boolean | null; auto_subscribe?: boolean; [k: string]: unknown },
    /** Another driver script speaking the same JSON-lines protocol (a path, or a file name in
        this folder such as slix_muc.py). */
    script = SCRIPT) {
    this.proc = spawn('/usr/bin/python3', [script.includes('/') ? script : fileURLToPath(new URL(`./${script}`, import.meta.url)), JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try { this.events.push(JSON.parse(l)); } catch { this.stderr += l + '\n'; }
      const w = this.waiters; this.waiters = []; for (const f of w) f();
    });
    this.proc.stderr!.on('data', (d) => { this.stderr += d; });
  }

  /** The first event matching `pred`, among those from index `from` on (see `mark()`). */
  async waitFor(pred: (e: SlixEvent) => boolean, ms = 15000, from = 0): Promise<SlixEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.events.slice(from).find(pred);
      if (e) return e;
      if (Date.now() > end) throw new Error(`slixmpp: timed out; events: ${JSON.stringify(this.events)}\nstderr: ${this.stderr.slice(-3000)}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  /** The index the next event will have: pass it to waitFor to ignore earlier events. */
  mark(): number { return this.events.length; }

  command(cmd: Record<string, unknown>): void { this.proc.stdin!.write(JSON.stringify(cmd) + '\n'); }

  async quit(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.command({ cmd: 'quit' });
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await done; clearTimeout(t);
  }
}
