// The web client with other clients and services: a slixmpp user (a real third-party client)
// subscribes and chats with a web user; two web users join a MUC room (XEP-0045) and talk;
// a reloaded page shows the conversation history from the archive (XEP-0313); and the app is
// usable with the keyboard alone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { buildWebClient, CHROMIUM, CHROMIUM_ARGS, WebUser } from './helpers.js';

describe('web client with slixmpp, rooms and the archive', { timeout: 300_000 }, () => {
  let ts: TestServer;
  let browser: Browser | undefined;
  let url: string;
  const present = existsSync(CHROMIUM);
  const users: WebUser[] = [];

  before(async () => {
    if (!present) return;
    buildWebClient();
    ts = await startTestServer();
    for (const u of ['erin', 'frank', 'dave']) await ts.addUser(u, `${u}-pw`);
    url = `http://127.0.0.1:${ts.server.port('http')}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    for (const u of users) await u.close().catch(() => {});
    await browser?.close();
    await ts?.stop();
  });

  async function user(jid: string, password: string): Promise<WebUser> {
    const u = await WebUser.open(browser!, url, jid);
    users.push(u);
    await u.login(password);
    return u;
  }

  it('chats with a slixmpp user: subscription both ways, presence with status, messages both ways', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const erin = await user('erin@localhost', 'erin-pw');
    // slixmpp approves requests and asks back (auto_authorize, auto_subscribe).
    const dave = new SlixClient({ jid: 'dave@localhost/py', password: 'dave-pw', port: ts.port, auto_authorize: true, auto_subscribe: true });
    try {
      await dave.waitFor((e) => e.event === 'session_start');
      // Initial presence: only an available resource gets subscription requests (RFC 6121 §3.1.3).
      dave.command({ cmd: 'presence' });
      await erin.page.getByLabel('Add a contact').fill('dave@localhost');
      await erin.page.getByRole('button', { name: 'Add', exact: true }).click();
      await erin.page.getByRole('button', { name: 'Accept dave@localhost' }).click({ timeout: 20000 });
      dave.command({ cmd: 'presence', show: 'away', status: 'in the garden' });
      await erin.page.waitForSelector('button.contact[data-jid="dave@localhost"][data-show="away"]', { timeout: 20000 });
      assert.match(await erin.contact('dave@localhost').innerText(), /in the garden/);
      await erin.openChat('dave@localhost');
      await erin.send('hello slixmpp');
      const m = await dave.waitFor((e) => e.event === 'message' && e.body === 'hello slixmpp');
      assert.match(String(m.frm), /^erin@localhost\/web-/);
      assert.equal(m.type, 'chat');
      dave.command({ cmd: 'send', to: 'erin@localhost', body: 'hello web', type: 'chat' });
      await erin.waitForLine('hello web');
      // Dave saw erin's presence (she is available) once subscribed.
      await dave.waitFor((e) => e.event === 'presence' && String(e.frm).startsWith('erin@localhost/') && e.type === 'available');
    } finally { if (process.env.DEBUG_SLIX) console.log(JSON.stringify(dave.events, null, 1), dave.stderr.slice(-2000)); await dave.quit(); }
  });

  it('a reloaded page shows the conversation from the message archive (XEP-0313)', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    if (!ts.server.modules.names().includes('mam')) return skipOrFail(t, 'the mam module is not in this server build');
    const erin = users[0]!;
    await erin.page.reload();
    await erin.login('erin-pw');
    await erin.openChat('dave@localhost');
    const first = await erin.waitForLine('hello slixmpp');
    await erin.waitForLine('hello web');
    assert.match(await first.getAttribute('class') ?? '', /\bout\b/, 'own archived message shown as ours');
    // Each message once, in order.
    const texts = await erin.messages().allInnerTexts();
    assert.equal(texts.filter((x) => x.includes('hello slixmpp')).length, 1);
    assert.ok(texts.findIndex((x) => x.includes('hello slixmpp')) < texts.findIndex((x) => x.includes('hello web')));
  });

  it('two web users join a room (XEP-0045) and talk in it', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    if (!ts.server.modules.names().includes('muc')) return skipOrFail(t, 'the muc module is not in this server build');
    const erin = users[0]!;
    const frank = await user('frank@localhost', 'frank-pw');
    for (const u of [erin, frank]) {
      await u.page.getByLabel('Join a room').fill('lobby@conference.localhost');
      await u.page.getByRole('button', { name: 'Join', exact: true }).click();
      await u.page.getByRole('region', { name: 'Room lobby@conference.localhost' }).waitFor({ timeout: 20000 });
    }
    await erin.page.locator('.occupants summary', { hasText: '2 people here' }).waitFor({ timeout: 20000 });
    await erin.send('hi room');
    await frank.waitForLine('hi room');
    await frank.send('hi erin');
    const got = await erin.waitForLine('hi erin');
    assert.match(await got.innerText(), /^frank/);
    assert.equal(await erin.page.locator('li.line', { hasText: 'hi room' }).count(), 1, 'our reflected message is shown once');
    await erin.shot('room');
    await frank.page.getByRole('button', { name: 'Leave' }).click();
    await erin.page.locator('.occupants summary', { hasText: '1 person here' }).waitFor({ timeout: 20000 });
  });

  it('is usable with the keyboard alone: sign in, open a chat, send', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    const u = await WebUser.open(browser!, url, 'frank@localhost');
    users.push(u);
    const k = u.page.keyboard;
    await u.page.getByLabel('Address (JID)').focus();
    await k.type('frank@localhost');
    await k.press('Tab');
    await k.type('frank-pw');
    await k.press('Enter');
    await u.status('online');
    // Erin is not a contact of frank yet: add her, by keyboard too.
    await u.page.getByLabel('Add a contact').focus();
    await k.type('erin@localhost');
    await k.press('Enter');
    await u.contact('erin@localhost').waitFor();
    // Reach the contact with Tab from the top of the page.
    await u.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await k.press('Tab');
      reached = await u.page.evaluate(() => document.activeElement?.getAttribute('data-jid') === 'erin@localhost');
    }
    assert.ok(reached, 'the contact is reachable with Tab');
    await k.press('Enter');
    await u.page.getByRole('region', { name: 'Chat with erin@localhost' }).waitFor();
    await u.page.locator('#composer-text').focus();
    await k.type('typed without a mouse');
    await k.press('Enter');
    await u.waitForLine('typed without a mouse');
    // Every form control has an accessible name.
    const unnamed = await u.page.evaluate(() => [...document.querySelectorAll('input, select, button')].filter((el) => {
      const e = el as HTMLInputElement;
      if (e.type === 'file') return false;
      return !(e.labels?.length || e.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent?.trim()));
    }).map((el) => el.outerHTML));
    assert.deepEqual(unnamed, []);
  });
});
