// Every row of RFC 6121 Appendix A (A.2.1, A.2.2, A.3.1–A.3.4), the outbound subscribe and
// unsubscribe of §3.1.2 and §3.3.2, and the pre-approval rules of §3.4, against the pure
// state machine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { transition, stateName, type SubState, type SubscriptionKind, type Direction } from './subscription-state.js';

const S: Record<string, SubState> = {
  'None': { subscription: 'none', pendingOut: false, pendingIn: false, approved: false },
  'None + Pending Out': { subscription: 'none', pendingOut: true, pendingIn: false, approved: false },
  'None + Pending In': { subscription: 'none', pendingOut: false, pendingIn: true, approved: false },
  'None + Pending Out+In': { subscription: 'none', pendingOut: true, pendingIn: true, approved: false },
  'To': { subscription: 'to', pendingOut: false, pendingIn: false, approved: false },
  'To + Pending In': { subscription: 'to', pendingOut: false, pendingIn: true, approved: false },
  'From': { subscription: 'from', pendingOut: false, pendingIn: false, approved: false },
  'From + Pending Out': { subscription: 'from', pendingOut: true, pendingIn: false, approved: false },
  'Both': { subscription: 'both', pendingOut: false, pendingIn: false, approved: false },
};

// [existing state, deliver (route, for outbound)?, new state ('' = no state change)]
type Row = [string, boolean, string];
const TABLES: { title: string; kind: SubscriptionKind; dir: Direction; rows: Row[] }[] = [
  { title: '§3.1.2 outbound subscribe (always routed)', kind: 'subscribe', dir: 'outbound', rows: [
    ['None', true, 'None + Pending Out'], ['None + Pending Out', true, ''], ['None + Pending In', true, 'None + Pending Out+In'],
    ['None + Pending Out+In', true, ''], ['To', true, ''], ['To + Pending In', true, ''], ['From', true, 'From + Pending Out'],
    ['From + Pending Out', true, ''], ['Both', true, ''],
  ] },
  { title: '§3.3.2 outbound unsubscribe (always routed)', kind: 'unsubscribe', dir: 'outbound', rows: [
    ['None', true, ''], ['None + Pending Out', true, 'None'], ['None + Pending In', true, ''],
    ['None + Pending Out+In', true, 'None + Pending In'], ['To', true, 'None'], ['To + Pending In', true, 'None + Pending In'],
    ['From', true, ''], ['From + Pending Out', true, 'From'], ['Both', true, 'From'],
  ] },
  { title: 'A.2.1 outbound subscribed', kind: 'subscribed', dir: 'outbound', rows: [
    ['None', false, ''], ['None + Pending Out', false, ''], ['None + Pending In', true, 'From'],
    ['None + Pending Out+In', true, 'From + Pending Out'], ['To', false, ''], ['To + Pending In', true, 'Both'],
    ['From', false, ''], ['From + Pending Out', false, ''], ['Both', false, ''],
  ] },
  { title: 'A.2.2 outbound unsubscribed', kind: 'unsubscribed', dir: 'outbound', rows: [
    ['None', false, ''], ['None + Pending Out', false, ''], ['None + Pending In', true, 'None'],
    ['None + Pending Out+In', true, 'None + Pending Out'], ['To', false, ''], ['To + Pending In', true, 'To'],
    ['From', true, 'None'], ['From + Pending Out', true, 'None + Pending Out'], ['Both', true, 'To'],
  ] },
  { title: 'A.3.1 inbound subscribe', kind: 'subscribe', dir: 'inbound', rows: [
    ['None', true, 'None + Pending In'], ['None + Pending Out', true, 'None + Pending Out+In'], ['None + Pending In', false, ''],
    ['None + Pending Out+In', false, ''], ['To', true, 'To + Pending In'], ['To + Pending In', false, ''],
    ['From', false, ''], ['From + Pending Out', false, ''], ['Both', false, ''],
  ] },
  { title: 'A.3.2 inbound unsubscribe', kind: 'unsubscribe', dir: 'inbound', rows: [
    ['None', false, ''], ['None + Pending Out', false, ''], ['None + Pending In', true, 'None'],
    ['None + Pending Out+In', true, 'None + Pending Out'], ['To', false, ''], ['To + Pending In', true, 'To'],
    ['From', true, 'None'], ['From + Pending Out', true, 'None + Pending Out'], ['Both', true, 'To'],
  ] },
  { title: 'A.3.3 inbound subscribed', kind: 'subscribed', dir: 'inbound', rows: [
    ['None', false, ''], ['None + Pending Out', true, 'To'], ['None + Pending In', false, ''],
    ['None + Pending Out+In', true, 'To + Pending In'], ['To', false, ''], ['To + Pending In', false, ''],
    ['From', false, ''], ['From + Pending Out', true, 'Both'], ['Both', false, ''],
  ] },
  { title: 'A.3.4 inbound unsubscribed', kind: 'unsubscribed', dir: 'inbound', rows: [
    ['None', false, ''], ['None + Pending Out', true, 'None'], ['None + Pending In', false, ''],
    ['None + Pending Out+In', true, 'None + Pending In'], ['To', true, 'None'], ['To + Pending In', true, 'None + Pending In'],
    ['From', false, ''], ['From + Pending Out', true, 'From'], ['Both', true, 'From'],
  ] },
];

const visible = (s: SubState): string => `${s.subscription}/${s.pendingOut}/${s.approved}`;

describe('RFC 6121 Appendix A subscription state machine', () => {
  for (const table of TABLES) {
    describe(table.title, () => {
      assert.equal(table.rows.length, 9, 'every defined state has a row');
      for (const [from, deliver, to] of table.rows) {
        it(`${from} → ${to || 'no state change'}, ${table.dir === 'outbound' ? 'route' : 'deliver'}: ${deliver ? 'yes' : 'no'}`, () => {
          const s = S[from]!;
          const t = transition(s, table.kind, table.dir, { preApproval: false });
          assert.equal(stateName(t.state), to || from);
          assert.deepEqual(t.state, S[to || from]);
          assert.equal(t.deliver, deliver);
          // A roster push exactly when what the client sees changed.
          assert.equal(t.push, visible(s) !== visible(t.state));
        });
      }
    });
  }

  it('does not modify its input state', () => {
    const s = { ...S['None + Pending In']! };
    transition(s, 'subscribed', 'outbound');
    assert.deepEqual(s, S['None + Pending In']);
  });

  describe('side effects', () => {
    it("§A.3.1 '*': a subscribe from a contact that already has a subscription is answered by the server", () => {
      for (const st of ['From', 'From + Pending Out', 'Both']) assert.equal(transition(S[st]!, 'subscribe', 'inbound').reply, 'subscribed', st);
      for (const st of ['None', 'To', 'None + Pending In']) assert.equal(transition(S[st]!, 'subscribe', 'inbound').reply, undefined, st);
    });
    it('§3.1.5: approving a request sends the user\'s presence to the contact', () => {
      for (const st of ['None + Pending In', 'None + Pending Out+In', 'To + Pending In']) assert.equal(transition(S[st]!, 'subscribed', 'outbound').presence, 'available', st);
    });
    it('§3.2.2: cancelling the contact\'s subscription sends it unavailable presence; denying a request does not', () => {
      for (const st of ['From', 'From + Pending Out', 'Both']) assert.equal(transition(S[st]!, 'unsubscribed', 'outbound').presence, 'unavailable', st);
      assert.equal(transition(S['None + Pending In']!, 'unsubscribed', 'outbound').presence, undefined);
    });
    it('§3.3.3: the contact unsubscribing gets unavailable presence from the user', () => {
      for (const st of ['From', 'Both']) assert.equal(transition(S[st]!, 'unsubscribe', 'inbound').presence, 'unavailable', st);
      assert.equal(transition(S['None + Pending In']!, 'unsubscribe', 'inbound').presence, undefined);
    });
  });

  describe('§3.4 pre-approval', () => {
    for (const st of ['None', 'None + Pending Out', 'To']) {
      it(`an outbound subscribed in ${st} records a pre-approval, routes nothing, pushes approved`, () => {
        const t = transition(S[st]!, 'subscribed', 'outbound', { preApproval: true });
        assert.equal(t.state.approved, true);
        assert.equal(t.state.subscription, S[st]!.subscription);
        assert.equal(t.deliver, false);
        assert.equal(t.push, true);
        const again = transition(t.state, 'subscribed', 'outbound', { preApproval: true });
        assert.equal(again.push, false, 'a second pre-approval changes nothing');
      });
    }
    for (const st of ['From', 'From + Pending Out', 'Both']) {
      it(`an outbound subscribed in ${st} is ignored even with pre-approval`, () => {
        const t = transition(S[st]!, 'subscribed', 'outbound', { preApproval: true });
        assert.deepEqual(t.state, S[st]);
        assert.equal(t.deliver, false);
      });
    }
    it('a pre-approved contact\'s subscribe is approved by the server, not delivered', () => {
      for (const [st, result] of [['None', 'From'], ['None + Pending Out', 'From + Pending Out'], ['To', 'Both']] as const) {
        const t = transition({ ...S[st]!, approved: true }, 'subscribe', 'inbound');
        assert.deepEqual(t.state, S[result], st);
        assert.equal(t.deliver, false);
        assert.equal(t.reply, 'subscribed');
        assert.equal(t.presence, 'available');
        assert.equal(t.push, true);
      }
    });
    it('an outbound unsubscribed withdraws a pre-approval without routing', () => {
      const t = transition({ ...S['None']!, approved: true }, 'unsubscribed', 'outbound');
      assert.deepEqual(t.state, S['None']);
      assert.equal(t.deliver, false);
      assert.equal(t.push, true);
    });
    it('approving a pending request clears nothing it should not', () => {
      const t = transition(S['None + Pending In']!, 'subscribed', 'outbound', { preApproval: true });
      assert.equal(t.state.approved, false);
    });
  });
});
