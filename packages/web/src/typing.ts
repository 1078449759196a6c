// Outgoing chat states (XEP-0085 §5): 'composing' once when the user starts typing, 'paused'
// after a quiet spell, 'active' when the text is cleared or sent (the message itself carries
// <active/>, §5.1, so no separate notification then). Only changes are sent (§5.2 "SHOULD NOT
// send the same state twice"). The clock is injectable for unit tests.

export type OutState = 'active' | 'composing' | 'paused';

export interface TypingOptions {
  send: (state: OutState) => void;
  /** Milliseconds without a keystroke before 'paused'. XEP-0085 §5.2 suggests about 5 s (30 s max). */
  pauseAfter?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export class TypingNotifier {
  private state: OutState = 'active';
  private timer: unknown;
  private readonly pauseAfter: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly o: TypingOptions) {
    this.pauseAfter = o.pauseAfter ?? 5000;
    this.setTimer = o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  }

  get current(): OutState { return this.state; }

  /** The composer's text changed. */
  input(text: string): void {
    this.clearTimer(this.timer);
    this.timer = undefined;
    if (text.trim() === '') { this.change('active'); return; }
    this.change('composing');
    this.timer = this.setTimer(() => { this.timer = undefined; this.change('paused'); }, this.pauseAfter);
  }

  /** A message was sent: it carried <active/> itself. */
  sent(): void {
    this.clearTimer(this.timer);
    this.timer = undefined;
    this.state = 'active';
  }

  dispose(): void { this.clearTimer(this.timer); this.timer = undefined; }

  private change(s: OutState): void {
    if (s === this.state) return;
    this.state = s;
    this.o.send(s);
  }
}
