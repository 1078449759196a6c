// The presence subscription state machine of RFC 6121 Appendix A, as a pure function.
//
// A user's relation to one contact is one of the nine defined states of §A.1 (None, None +
// Pending Out, None + Pending In, None + Pending Out+In, To, To + Pending In, From, From +
// Pending Out, Both) plus the pre-approval flag of §3.4. `transition` gives, for a subscription
// stanza the USER sends (outbound: §3.1.2 subscribe, §3.3.2 unsubscribe, §A.2.1 subscribed,
// §A.2.2 unsubscribed) or the user's server receives from the CONTACT (inbound: §A.3.1–§A.3.4),
// the new state and what the server must do about it. The server code (subscriptions.ts)
// turns that into storage, roster pushes and routed stanzas; nothing here touches I/O, so the
// table-driven test (subscription-state.test.ts) checks every row of the appendix.

export type Subscription = 'none' | 'to' | 'from' | 'both';
export type SubscriptionKind = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
export type Direction = 'outbound' | 'inbound';

export interface SubState {
  /** The roster's subscription attribute: does the user see the contact (to), the contact the user (from)? */
  subscription: Subscription;
  /** The user asked to see the contact and awaits the answer (ask='subscribe'). */
  pendingOut: boolean;
  /** The contact asked to see the user and awaits the answer (stored, never a roster attribute). */
  pendingIn: boolean;
  /** The user pre-approved a future request from the contact (§3.4, approved='true'). */
  approved: boolean;
}

export interface Transition {
  state: SubState;
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the user's available resources. */
  deliver: boolean;
  /** The user's visible roster item (subscription, ask, approved) changed: push it to interested resources. */
  push: boolean;
  /** Answer the contact on the user's behalf (the '*' rows of §A.3.1, and a consumed pre-approval). */
  reply?: 'subscribed';
  /** Send the contact the user's presence: 'available' = the current presence of every available
      resource (a subscription was granted, §3.1.5), 'unavailable' = unavailable from each of them
      (the contact lost its subscription, §3.2.2, §3.3.3). */
  presence?: 'available' | 'unavailable';
}

export const NONE: SubState = Object.freeze({ subscription: 'none', pendingOut: false, pendingIn: false, approved: false });

const hasTo = (s: SubState): boolean => s.subscription === 'to' || s.subscription === 'both';
const hasFrom = (s: SubState): boolean => s.subscription === 'from' || s.subscription === 'both';
function withTo(s: Subscription, on: boolean): Subscription {
  const from = s === 'from' || s === 'both';
  return on ? (from ? 'both' : 'to') : (from ? 'from' : 'none');
}
function withFrom(s: Subscription, on: boolean): Subscription {
  const to = s === 'to' || s === 'both';
  return on ? (to ? 'both' : 'from') : (to ? 'to' : 'none');
}

/** What the user's client sees of a state: §A.1 "reflected in the user's roster by ...". */
export function visibleChange(a: SubState, b: SubState): boolean {
  return a.subscription !== b.subscription || a.pendingOut !== b.pendingOut || a.approved !== b.approved;
}

/** The state's name as Appendix A writes it (tests and logs). */
export function stateName(s: SubState): string {
  const base = s.subscription === 'none' ? 'None' : s.subscription === 'to' ? 'To' : s.subscription === 'from' ? 'From' : 'Both';
  const pend = s.pendingOut && s.pendingIn ? ' + Pending Out+In' : s.pendingOut ? ' + Pending Out' : s.pendingIn ? ' + Pending In' : '';
  return base + pend + (s.approved ? ' (pre-approved)' : '');
}

export interface TransitionOptions {
  /** The server offers subscription pre-approval (§3.4): an outbound 'subscribed' with nothing
      pending records it instead of being ignored. */
  preApproval: boolean;
}

export function transition(s: SubState, kind: SubscriptionKind, dir: Direction, opts: TransitionOptions = { preApproval: true }): Transition {
  const n: SubState = { ...s };
  let deliver = false;
  let reply: Transition['reply'];
  let presence: Transition['presence'];

  if (dir === 'outbound') {
    switch (kind) {
      case 'subscribe':
        // §3.1.2: always routed, so a user can resynchronise with the contact's server; the
        // state gains Pending Out unless the user is already subscribed or waiting.
        deliver = true;
        if (!hasTo(s)) n.pendingOut = true;
        break;
      case 'unsubscribe':
        // §3.3.2: always routed; the user loses the subscription and any pending request.
        deliver = true;
        n.pendingOut = false;
        n.subscription = withTo(s.subscription, false);
        break;
      case 'subscribed':
        if (s.pendingIn) {
          // §A.2.1: approval of a pending request; §3.1.5: the contact gets the user's presence.
          n.pendingIn = false;
          n.approved = false;
          n.subscription = withFrom(s.subscription, true);
          deliver = true;
          presence = 'available';
        } else if (!hasFrom(s) && opts.preApproval) {
          // §3.4.2: nothing to approve yet: note the pre-approval, route nothing.
          n.approved = true;
        }
        // Otherwise (§A.2.1 "no"): already subscribed, or no pre-approval: ignored.
        break;
      case 'unsubscribed':
        if (s.pendingIn) {
          // §A.2.2: a pending request denied.
          n.pendingIn = false;
          deliver = true;
        } else if (hasFrom(s)) {
          // §A.2.2: a subscription cancelled; §3.2.2: the contact gets unavailable presence.
          n.subscription = withFrom(s.subscription, false);
          deliver = true;
          presence = 'unavailable';
        } else if (s.approved) {
          // A pre-approval withdrawn (§3.4 gives no other way to cancel one): not routed.
          n.approved = false;
        }
        break;
    }
  } else {
    switch (kind) {
      case 'subscribe':
        if (hasFrom(s)) {
          // §A.3.1 '*': already subscribed: the server answers for the user.
          reply = 'subscribed';
        } else if (s.pendingIn) {
          // §A.3.1: a duplicate request: not delivered again (it is stored and redelivered).
        } else if (s.approved) {
          // §3.4: pre-approved: approve on the user's behalf, never bother the user.
          n.approved = false;
          n.subscription = withFrom(s.subscription, true);
          reply = 'subscribed';
          presence = 'available';
        } else {
          n.pendingIn = true;
          deliver = true;
        }
        break;
      case 'unsubscribe':
        // §A.3.2: the contact no longer wants the user's presence (or withdraws its request).
        if (hasFrom(s)) {
          n.subscription = withFrom(s.subscription, false);
          deliver = true;
          presence = 'unavailable';
        } else if (s.pendingIn) {
          n.pendingIn = false;
          deliver = true;
        }
        break;
      case 'subscribed':
        // §A.3.3: only an answer to the user's own pending request counts.
        if (s.pendingOut) {
          n.pendingOut = false;
          n.subscription = withTo(s.subscription, true);
          deliver = true;
        }
        break;
      case 'unsubscribed':
        // §A.3.4: the request was denied, or the user's subscription cancelled.
        if (s.pendingOut) {
          n.pendingOut = false;
          deliver = true;
        } else if (hasTo(s)) {
          n.subscription = withTo(s.subscription, false);
          deliver = true;
        }
        break;
    }
  }
  // A pre-approval only means something while the contact has no subscription and no request.
  if (hasFrom(n) || n.pendingIn) n.approved = false;
  const t: Transition = { state: n, deliver, push: visibleChange(s, n) };
  if (reply) t.reply = reply;
  if (presence) t.presence = presence;
  return t;
}
