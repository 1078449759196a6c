// The SMTP gateway end to end: Magpie, the gateway (connected as an external component through
// xmpp.js), a real SMTP relay sink (smtp-server on loopback) and a c2s client. XMPP → mail with
// From/To/Subject/body checked at the sink, mail → XMPP sent with nodemailer, recipients refused
// at RCPT, the size limit, threading both ways, the relay going down, disco and the CLI.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { byId, errorCondition, login } from '../im/roster-helpers.js';
import { startGateway, type Gateway } from '@magpie/smtp-gateway/gateway';
import { validateGatewayConfig } from '@magpie/smtp-gateway/config';

const SECRET = 'gateway secret';

interface Sink { port: number; mails: { envelope: { from: string; to: string[] }; mail: ParsedMail }[]; close(): Promise<void> }

/** A real SMTP server standing in for the relay: it keeps every message it is given. */
async function startSink(port = 0): Promise<Sink> {
  const mails: Sink['mails'] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    // The relay refuses this recipient for good.
    onRcptTo(address, _session, cb) { cb(address.address.startsWith('refused@') ? Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }) : undefined); },
    onData(stream, session, cb) {
      simpleParser(stream).then((mail) => {
        mails.push({ envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) }, mail });
        cb();
      }, cb);
    },
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { port: (server.server.address() as AddressInfo).port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function until<T>(f: () => T | undefined, ms = 8000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) { const v = f(); if (v !== undefined) return v; if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 25)); }
}

describe('SMTP gateway (external component)', () => {
  let ts: TestServer; let sink: Sink; let gw: Gateway; let alice: RawClient;
  const toGateway = () => nodemailer.createTransport({ host: '127.0.0.1', port: gw.smtpPort, secure: false, ignoreTLS: true, connectionTimeout: 5000 });

  before(async () => {
    ts = await startTestServer({
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: 'component', address: '127.0.0.1', port: 0 }],
      components: [{ domain: 'mail.localhost', secret: SECRET, name: 'E-mail' }],
    });
    await ts.addUser('alice', 'pw');
    sink = await startSink();
    gw = await startGateway(validateGatewayConfig({
      domain: 'mail.localhost',
      server: { host: '127.0.0.1', port: ts.server.port('component'), secret: SECRET },
      relay: { host: '127.0.0.1', port: sink.port, timeoutMs: 3000 },
      listener: { address: '127.0.0.1', port: 0, maxMessageBytes: 20_000 },
      log: { level: process.env.MAGPIE_TEST_LOG ? 'debug' : 'silent' },
    }));
    alice = await login(ts, 'alice', 'desk');
    // Available, so that messages to her bare JID are delivered rather than stored offline.
    alice.send('<presence/>');
  });
  after(async () => { alice?.destroy(); await gw?.stop(); await sink?.close(); await ts?.stop(); });

  it('connects as a component and answers disco#info as gateway/smtp', async () => {
    assert.ok(gw.online);
    assert.ok(ts.server.components.isConnected('mail.localhost'));
    alice.send(`<iq to='mail.localhost' type='get' id='di'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const r = await alice.next(byId('di'));
    const id = r.getChild('query', 'http://jabber.org/protocol/disco#info')?.getChild('identity');
    assert.deepEqual([id?.attr('category'), id?.attr('type')], ['gateway', 'smtp']);
    alice.send(`<iq to='mail.localhost' type='set' id='gq'><query xmlns='jabber:iq:gateway'><prompt>bob@example.org</prompt></query></iq>`);
    assert.equal((await alice.next(byId('gq'))).getChild('query', 'jabber:iq:gateway')?.getChildText('jid'), 'bob%example.org@mail.localhost');
  });

  it('XMPP → mail: a message to bob%example.org@mail.localhost reaches the relay as mail', async () => {
    alice.send(`<message to='bob%example.org@mail.localhost' type='chat' id='x1'><subject>Lunch?</subject><body>Hello Bob &amp; co — at noon?</body></message>`);
    const m = await until(() => sink.mails.find((x) => x.mail.subject === 'Lunch?'), 8000, 'the mail at the sink');
    assert.deepEqual(m.envelope, { from: 'alice%localhost@mail.localhost', to: ['bob@example.org'] });
    assert.equal(m.mail.from?.value[0]?.address, 'alice%localhost@mail.localhost');
    assert.equal((Array.isArray(m.mail.to) ? m.mail.to[0] : m.mail.to)?.value[0]?.address, 'bob@example.org');
    assert.equal(m.mail.text?.trim(), 'Hello Bob & co — at noon?');
    // Without <subject/>: the default subject; XEP-0106 escapes (\27 = ') are undone.
    alice.send(`<message to='o\\27neil%example.org@mail.localhost' id='x2'><body>no subject</body></message>`);
    const m2 = await until(() => sink.mails.find((x) => x.mail.text?.trim() === 'no subject'), 8000, 'the second mail');
    assert.deepEqual(m2.envelope.to, ["o'neil@example.org"]);
    assert.equal(m2.mail.subject, 'Message from XMPP');
  });

  it('XMPP → mail: an address that is no e-mail address → jid-malformed', async () => {
    alice.send(`<message to='not-an-address@mail.localhost' type='chat' id='x3'><body>?</body></message>`);
    const e = await alice.next(byId('x3'));
    assert.equal(e.attr('type'), 'error');
    assert.equal(errorCondition(e), 'jid-malformed');
  });

  it('mail → XMPP: mail for alice%localhost@mail.localhost arrives as a message from the sender at the component', async () => {
    const info = await toGateway().sendMail({ from: 'Carol <carol@example.org>', to: 'alice%localhost@mail.localhost', subject: 'Minutes', text: 'See you on Monday.', messageId: '<minutes-1@example.org>' });
    assert.equal(info.rejected.length, 0);
    const m = await alice.next((e) => e.name === 'message' && e.getChildText('subject') === 'Minutes', 8000);
    assert.equal(m.attr('from'), 'carol%example.org@mail.localhost');
    assert.equal(m.attr('to'), 'alice@localhost');
    assert.equal(m.attr('type'), 'normal');
    assert.equal(m.getChildText('body')?.trim(), 'See you on Monday.');
    assert.equal(m.getChildText('thread'), 'minutes-1@example.org');
    // A reply in that thread goes back to Carol with In-Reply-To set.
    alice.send(`<message to='${m.attr('from')}' type='normal' id='r1'><subject>Re: Minutes</subject><body>Fine.</body><thread>minutes-1@example.org</thread></message>`);
    const reply = await until(() => sink.mails.find((x) => x.mail.subject === 'Re: Minutes'), 8000, 'the reply at the sink');
    assert.deepEqual(reply.envelope.to, ['carol@example.org']);
    assert.equal(reply.mail.inReplyTo, '<minutes-1@example.org>');
  });

  it('mail → XMPP: recipients that are no XMPP user here are refused at RCPT with 550; oversized mail with 552', async () => {
    for (const to of ['someone@elsewhere.org', 'alice%other.example@mail.localhost', 'plain@mail.localhost']) {
      await assert.rejects(toGateway().sendMail({ from: 'carol@example.org', to, subject: 'x', text: 'x' }),
        (e: { responseCode?: number }) => e.responseCode === 550, `RCPT ${to} must be refused`);
    }
    await assert.rejects(toGateway().sendMail({ from: 'carol@example.org', to: 'alice%localhost@mail.localhost', subject: 'big', text: 'x'.repeat(40_000) }),
      (e: { responseCode?: number }) => e.responseCode === 552);
  });

  it('a recipient the relay refuses (5xx) → service-unavailable with the relay\'s answer', async () => {
    alice.send(`<message to='refused%example.org@mail.localhost' type='chat' id='ref1'><body>hello?</body></message>`);
    const e = await alice.next(byId('ref1'), 15_000);
    assert.equal(e.attr('type'), 'error');
    assert.equal(errorCondition(e), 'service-unavailable');
    assert.match(e.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? '', /550/);
  });

  it('relay down → an error message back to the sender (remote-server-timeout)', async () => {
    const port = sink.port;
    await sink.close();
    try {
      alice.send(`<message to='dave%example.org@mail.localhost' type='chat' id='down1'><body>is anyone there?</body></message>`);
      const e = await alice.next(byId('down1'), 15_000);
      assert.equal(e.attr('type'), 'error');
      assert.equal(e.attr('from'), 'dave%example.org@mail.localhost');
      assert.equal(errorCondition(e), 'remote-server-timeout');
      assert.equal(e.getChildText('body'), 'is anyone there?');
    } finally { sink = await startSink(port); }
  });

  it('a wrong secret fails the start instead of retrying forever', async () => {
    await assert.rejects(startGateway(validateGatewayConfig({
      domain: 'mail.localhost', server: { host: '127.0.0.1', port: ts.server.port('component'), secret: 'wrong' },
      listener: { port: 0 }, log: { level: 'silent' },
    })));
    assert.ok(gw.online, 'the connected gateway is not disturbed');
  });

  it('mail while the XMPP server is away → 451 (the sending MTA retries later)', async () => {
    const other = await startTestServer({ listeners: [{ type: 'component', address: '127.0.0.1', port: 0 }], components: [{ domain: 'mail.localhost', secret: SECRET }] });
    let stopped = false;
    const g = await startGateway(validateGatewayConfig({
      domain: 'mail.localhost', server: { host: '127.0.0.1', port: other.server.port('component'), secret: SECRET },
      listener: { port: 0 }, log: { level: 'silent' },
    }));
    try {
      await other.stop(); stopped = true;
      await until(() => (g.online ? undefined : true), 10_000, 'the gateway to notice');
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: g.smtpPort, secure: false, ignoreTLS: true });
      await assert.rejects(t.sendMail({ from: 'carol@example.org', to: 'alice%localhost@mail.localhost', subject: 'x', text: 'x' }),
        (e: { responseCode?: number }) => e.responseCode === 451);
    } finally { await g.stop(); if (!stopped) await other.stop(); }
  });

  it('the command refuses a bad configuration with the key named and exit code 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'magpie-gw-'));
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, 'domain: mail.localhost\nserver: { secret: x, secretFile: /nope }\nbogus: 1\n');
    const r = spawnSync(process.execPath, ['--conditions=magpie-src', '--import', 'tsx', 'packages/smtp-gateway/src/cli.ts', '--config', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /server: give exactly one of secret and secretFile/);
    assert.match(r.stderr, /unknown key\(s\) bogus/);
  });
});
