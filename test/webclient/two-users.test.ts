// The web client in headless Chromium, end to end against a started Magpie: two users, each in
// their own browser context, log in through the page served at `/`, subscribe to each other
// through the UI, chat both ways with typing notifications, see each other's presence change,
// get a message sent while they were offline, block, upload an image and see it inline, and
// the page reconnects by itself after the server kills its WebSocket. Screenshots of the main
// screens go to test-artifacts/webclient/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { buildWebClient, CHROMIUM, CHROMIUM_ARGS, solidPng, WebUser } from './helpers.js';

const PNG = solidPng(120, 80, [200, 40, 40]);

function dropServerSide(ts: TestServer, jid: string): void {
  const s = ts.server.sessions.get(jid) as unknown as { currentStream: { transport: { destroy(): void } } } | undefined;
  assert.ok(s, `no session ${jid}`);
  s.currentStream.transport.destroy();
}

describe('web client: two users in Chromium', { timeout: 300_000 }, () => {
  let ts: TestServer;
  let browser: Browser | undefined;
  let url: string;
  let alice: WebUser;
  let bob: WebUser;
  const present = existsSync(CHROMIUM);

  before(async () => {
    if (!present) return;
    buildWebClient();
    ts = await startTestServer();
    for (const u of ['alice', 'bob', 'carol']) await ts.addUser(u, `${u}-pw`);
    url = `http://127.0.0.1:${ts.server.port('http')}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await ts?.stop();
  });

  it('both log in through the page (the JID is remembered, the password is not)', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    alice = await WebUser.open(browser!, url, 'alice@localhost');
    bob = await WebUser.open(browser!, url, 'bob@localhost');
    await alice.shot('login');
    // A wrong password is refused with a message, and the page stays on the login form.
    await alice.page.getByLabel('Address (JID)').fill('alice@localhost');
    await alice.page.getByLabel('Password').fill('wrong');
    await alice.page.getByRole('button', { name: 'Sign in' }).click();
    await alice.page.getByRole('alert').filter({ hasText: 'wrong address or password' }).waitFor({ timeout: 20000 });
    await alice.login('alice-pw');
    await bob.login('bob-pw');
    const stored = await alice.page.evaluate(() => ({ jid: localStorage.getItem('magpie.jid'), all: JSON.stringify(localStorage) }));
    assert.equal(stored.jid, 'alice@localhost');
    assert.doesNotMatch(stored.all, /alice-pw/);
    assert.equal(ts.server.sessions.resources('alice@localhost').length, 1);
    assert.match(ts.server.sessions.resources('alice@localhost')[0]!.jid.toString(), /^alice@localhost\/web-/);
  });

  it('subscribe to each other through the UI: add, accept, accept back; presence shows up', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    await alice.page.getByLabel('Add a contact').fill('bob@localhost');
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.contact('bob@localhost').waitFor();
    // Bob sees the request and accepts: that approves and asks back.
    await bob.page.getByRole('button', { name: 'Accept alice@localhost' }).click();
    await alice.page.getByRole('button', { name: 'Accept bob@localhost' }).click();
    await alice.page.waitForSelector('button.contact[data-jid="bob@localhost"][data-show="available"]', { timeout: 20000 });
    await bob.page.waitForSelector('button.contact[data-jid="alice@localhost"][data-show="available"]', { timeout: 20000 });
    await alice.shot('contact-list');
  });

  it('chat both ways with typing notifications; unread counts until the chat is opened', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    await alice.openChat('bob@localhost');
    // Typing shows on Bob's side before any message: the notice is in his (closed) chat state.
    await alice.page.locator('#composer-text').pressSequentially('Hello Bo', { delay: 20 });
    await bob.openChat('alice@localhost');
    await bob.page.getByText('alice@localhost is typing…').waitFor({ timeout: 20000 });
    await alice.page.locator('#composer-text').press('b');
    await alice.page.locator('#composer-text').press('Enter');
    await bob.waitForLine('Hello Bob');
    assert.equal(await bob.page.getByText('is typing…').count(), 0, 'the message ends the typing notice');
    // Bob types back: Alice sees it, then the answer.
    await bob.page.locator('#composer-text').pressSequentially('Hi Alice!', { delay: 20 });
    await alice.page.getByText('bob@localhost is typing…').waitFor({ timeout: 20000 });
    await bob.page.locator('#composer-text').press('Enter');
    await alice.waitForLine('Hi Alice!');
    // Bob goes to the contact list (closes the chat); Alice's next messages count as unread for him.
    await bob.page.evaluate(() => (document.querySelector('button.back') as HTMLButtonElement).click());
    await alice.send('one');
    await alice.send('two');
    await bob.page.waitForSelector('button.contact[data-jid="alice@localhost"] .badge:text("2")', { timeout: 20000 });
    // The title follows the badge in a later render: wait for it (bounded), then check it.
    await bob.page.waitForFunction(() => document.title === '(2) Magpie', undefined, { timeout: 5000 }).catch(() => undefined);
    assert.match(await bob.page.title(), /^\(2\) Magpie$/);
    await bob.openChat('alice@localhost');
    await bob.waitForLine('two');
    assert.equal(await bob.contact('alice@localhost').locator('.badge').count(), 0);
    await alice.shot('chat');
  });

  it('presence changes: away with a status is seen by the other side', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    await bob.page.getByLabel('Your availability').selectOption('away');
    await bob.page.getByLabel('Status message').fill('at lunch');
    await bob.page.getByRole('button', { name: 'Set' }).click();
    const c = alice.contact('bob@localhost');
    await alice.page.waitForSelector('button.contact[data-jid="bob@localhost"][data-show="away"]', { timeout: 20000 });
    assert.match(await c.innerText(), /Away — at lunch/);
    assert.match((await c.getAttribute('aria-label'))!, /Away: at lunch/);
    // The chat header follows too.
    await alice.page.locator('.pane-head .presence', { hasText: 'Away — at lunch' }).waitFor();
    await bob.page.getByLabel('Your availability').selectOption('dnd');
    await bob.page.getByLabel('Status message').fill('');
    await bob.page.getByRole('button', { name: 'Set' }).click();
    await alice.page.waitForSelector('button.contact[data-jid="bob@localhost"][data-show="dnd"]', { timeout: 20000 });
    await bob.page.getByLabel('Your availability').selectOption('available');
    await bob.page.getByRole('button', { name: 'Set' }).click();
    await alice.page.waitForSelector('button.contact[data-jid="bob@localhost"][data-show="available"]', { timeout: 20000 });
  });

  it('a message sent while the other side is offline is delivered when they log in again', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    await bob.page.getByRole('button', { name: 'Sign out' }).click();
    await bob.page.getByLabel('Password').waitFor();
    await alice.page.waitForSelector('button.contact[data-jid="bob@localhost"][data-show="offline"]', { timeout: 20000 });
    await alice.send('while you were out');
    await bob.login('bob-pw');
    await bob.page.waitForSelector('button.contact[data-jid="alice@localhost"] .badge', { timeout: 20000 });
    // Alice's presence (answered to the server's probe) shows although it may beat the roster.
    await bob.page.waitForSelector('button.contact[data-jid="alice@localhost"][data-show="available"]', { timeout: 20000 });
    await bob.openChat('alice@localhost');
    await bob.waitForLine('while you were out');
  });

  it('uploads an image (XEP-0363) and both sides see it inline', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    await alice.page.locator('#composer-file').setInputFiles({ name: 'red dot.png', mimeType: 'image/png', buffer: PNG });
    for (const u of [alice, bob]) {
      const img = u.page.locator('li.line img[src*="/upload/"]').last();
      await img.waitFor({ timeout: 30000 });
      assert.match((await img.getAttribute('src'))!, /^https:\/\/localhost:\d+\/upload\/upload\.localhost\/[\w-]+\/red%20dot\.png$/);
      // Loaded for real (the CSP and the certificate let it through): 120×80 pixels.
      await u.page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 120, await img.elementHandle(), { timeout: 20000 });
    }
    await bob.shot('chat-with-image');
  });

  it('reconnects by itself after the server kills its WebSocket, with a visible status', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    // Record every status the page shows: the reconnection may be quick.
    await alice.page.evaluate(() => {
      const seen: string[] = [];
      (globalThis as unknown as { seen: string[] }).seen = seen;
      const el = document.querySelector('.conn')!;
      new MutationObserver(() => seen.push(el.getAttribute('data-status')!)).observe(el, { attributes: true, attributeFilter: ['data-status'] });
    });
    const full = ts.server.sessions.resources('alice@localhost')[0]?.jid.toString();
    assert.ok(full, 'alice has a session');
    dropServerSide(ts, full);
    await alice.status('reconnecting', 10000).catch(() => {});
    await alice.status('online', 30000);
    const seen = await alice.page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen);
    assert.ok(seen.includes('reconnecting'), `statuses shown: ${seen.join(', ')}`);
    // Still chatting, both ways.
    await alice.send('back again');
    await bob.waitForLine('back again');
    await bob.send('welcome back');
    await alice.waitForLine('welcome back');
  });

  it('blocks a contact (XEP-0191): presence disappears, messages stop, unblock restores', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    await alice.page.getByRole('button', { name: 'Block', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Unblock' }).waitFor({ timeout: 20000 });
    assert.match((await alice.contact('bob@localhost').getAttribute('aria-label'))!, /blocked/);
    assert.equal(await alice.page.locator('#composer-text').isDisabled(), true);
    // Bob sees Alice go offline (a block sends unavailable presence) and his messages bounce.
    await bob.page.waitForSelector('button.contact[data-jid="alice@localhost"][data-show="offline"]', { timeout: 20000 });
    await bob.send('can you hear me?');
    await bob.page.locator('li.line.error').first().waitFor({ timeout: 20000 });
    assert.equal(await alice.page.locator('li.line', { hasText: 'can you hear me?' }).count(), 0);
    const raw = await RawClient.connect(ts.port);
    try {
      // The server's blocklist has bob (checked with another client of alice).
      await raw.login('alice', 'alice-pw', { resource: 'check' });
      raw.send(`<iq type='get' id='bl'><blocklist xmlns='urn:xmpp:blocking'/></iq>`);
      const res = await raw.next((e) => e.name === 'iq' && e.attr('id') === 'bl', 10000);
      assert.deepEqual(res.getChild('blocklist', 'urn:xmpp:blocking')!.getChildren('item').map((i) => i.attr('jid')), ['bob@localhost']);
    } finally { raw.destroy(); }
    await alice.page.getByRole('button', { name: 'Unblock' }).click();
    await alice.page.getByRole('button', { name: 'Block', exact: true }).waitFor({ timeout: 20000 });
    await bob.page.waitForSelector('button.contact[data-jid="alice@localhost"][data-show="available"]', { timeout: 20000 });
    await bob.send('and now?');
    await alice.waitForLine('and now?');
  });

  it('works on a phone-sized screen (390×844): list, then chat with a back button', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    const phone = await WebUser.open(browser!, url, 'carol@localhost', { width: 390, height: 844 });
    try {
      await phone.login('carol-pw');
      await phone.page.getByLabel('Add a contact').fill('alice@localhost');
      await phone.page.getByRole('button', { name: 'Add', exact: true }).click();
      await phone.contact('alice@localhost').waitFor();
      assert.equal(await phone.page.locator('main.pane').isVisible(), false, 'only the list on a narrow screen');
      await phone.shot('phone-contacts');
      await phone.openChat('alice@localhost');
      assert.equal(await phone.page.locator('aside.sidebar').isVisible(), false, 'only the chat once opened');
      await phone.send('hello from a phone');
      await phone.waitForLine('hello from a phone');
      // Nothing wider than the screen.
      const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `page is ${width}px wide`);
      await phone.shot('phone-chat');
      await phone.page.getByRole('button', { name: 'Back to contacts' }).click();
      await phone.page.locator('aside.sidebar').waitFor();
      assert.deepEqual(phone.errors, []);
    } finally { await phone.close(); }
  });

  it('no script errors on either page (the CSP allowed everything the app needs)', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    assert.deepEqual(alice.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
    assert.deepEqual(bob.errors.filter((e) => !/Failed to load resource/.test(e)), []);
    await alice.close();
    await bob.close();
  });
});
