// Ad-Hoc Commands (XEP-0050 1.3) on the server's JID: the command list (§2.2: disco#items of the
// node 'http://jabber.org/protocol/commands', only the commands the requester may run), a
// command's disco#info (§2.3), execution in sessions of one or more stages (§3.3, §3.4:
// execute / next / complete / cancel, status executing / completed / canceled, <actions/>,
// <note/>), and the errors of §4.6. Commands come from other modules through the 'adhoc'
// service (the XEP-0133 administration commands: module 'admin'). 'prev' is never offered:
// no command here needs to go back, so it is bad-action like any action not offered.
// Sessions live in this process: a client's requests always reach the node it is connected to.

import { z } from 'zod';
import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { DataFormError, parseDataForm, type DataForm } from '@magpie/core/protocol/data-form';
import { JID } from '@magpie/core/jid/jid';
import { defineModule } from '../module.js';
import { DISCO, infoResult, type DiscoService } from '../disco/disco.js';
import { ADHOC, badPayload, commandError, type AdhocCommand, type AdhocService, type CommandReply } from './commands.js';
import { CommandSessions, type CommandSession } from './sessions.js';

const options = z.object({
  /** Seconds a command session stays open without a request (§3.4 leaves it to the responder). */
  sessionTimeout: z.number().int().min(10).max(86_400).default(600),
  /** Open command sessions per account (all its resources). */
  maxSessionsPerUser: z.number().int().min(1).max(1000).default(5),
  /** Open command sessions in all. */
  maxSessions: z.number().int().min(1).max(1_000_000).default(1000),
}).strict();

const ACTIONS = new Set(['execute', 'cancel', 'prev', 'next', 'complete']);

export default defineModule({
  manifest: {
    name: 'adhoc',
    description: 'Ad-hoc commands on the server (the registry other modules add commands to)',
    specs: [{ spec: 'XEP-0050', version: '1.3', status: 'partial', notes: 'commands on the server JID only, listed to those who may run them; multi-stage sessions with a timeout and a per-account limit (modules.options.adhoc); no prev action, no localisation (xml:lang)' }],
    options,
    depends: ['disco'],
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const commands = new Map<string, AdhocCommand>();
    const sessions = new CommandSessions({ timeoutMs: o.sessionTimeout * 1000, perUser: o.maxSessionsPerUser, total: o.maxSessions });
    const admins = new Map<string, Set<string>>();
    for (const h of api.config.hosts) {
      admins.set(h.domain, new Set(h.admins.map((a) => {
        const j = JID.tryParse(a);
        if (!j || !j.local || j.resource) throw new Error(`hosts[${h.domain}].admins: '${a}' is not a bare JID`);
        return j.bareString();
      })));
    }
    const service: AdhocService = {
      register(c) {
        if (commands.has(c.node)) throw new Error(`ad-hoc command '${c.node}' is already registered`);
        commands.set(c.node, c);
        return () => { if (commands.get(c.node) === c) commands.delete(c.node); };
      },
      isAdmin: (from, host) => !!from.local && (admins.get(host)?.has(from.bareString()) ?? false),
    };
    api.provide<AdhocService>(ADHOC, service);
    api.discoFeature(NS.COMMANDS);
    api.every(Math.min(o.sessionTimeout * 1000, 60_000), () => sessions.sweep());
    api.onUnload(() => sessions.clear());
    const started = api.metric('sessions_started');

    const disco = api.service<DiscoService>(DISCO);
    if (disco) {
      api.onUnload(disco.addHostNodes({
        async items(host, node, from) {
          if (node !== NS.COMMANDS) return undefined;
          return [...commands.values()].filter((c) => c.allowed(from, host)).map((c) => ({ jid: host, node: c.node, name: c.name }));
        },
        async info(host, node, from) {
          // §2.2 the list node itself, §2.3 one command.
          if (node === NS.COMMANDS) return infoResult(node, [{ category: 'automation', type: 'command-list' }], []);
          const c = commands.get(node);
          if (!c) return undefined;
          if (!c.allowed(from, host)) throw new StanzaError('forbidden');
          return infoResult(node, [{ category: 'automation', type: 'command-node', name: c.name }], [NS.COMMANDS, NS.DATA_FORMS]);
        },
      }));
    }

    const reply = (s: CommandSession, status: string, r?: CommandReply): Element => {
      const el = xml('command', NS.COMMANDS, { node: s.node, sessionid: s.id, status });
      if (r?.status === 'executing') {
        const a = el.c('actions', { execute: s.execute });
        for (const x of r.actions) a.c(x);
      }
      for (const n of r?.notes ?? []) el.c('note', { type: n.type }).t(n.text);
      if (r?.form) el.append(r.form);
      return el;
    };

    api.iq({ type: 'set', scope: 'host', xmlns: NS.COMMANDS, name: 'command' }, async (ev, q) => {
      const host = ev.to.domain;
      const node = q.attr('node');
      if (!node) throw commandError('bad-request', undefined, 'the command has no node');
      const cmd = commands.get(node);
      if (!cmd) throw new StanzaError('item-not-found');
      if (!cmd.allowed(ev.from, host)) throw new StanzaError('forbidden');
      const action = q.attr('action') ?? 'execute';
      if (!ACTIONS.has(action)) throw commandError('bad-request', 'malformed-action');
      let form: DataForm | undefined;
      const x = q.getChild('x', NS.DATA_FORMS);
      try { if (x) form = parseDataForm(x); } catch (e) {
        if (e instanceof DataFormError) throw badPayload(e.message);
        throw e;
      }
      if (form && form.type !== 'submit') form = undefined;

      const sid = q.attr('sessionid');
      let s: CommandSession;
      if (sid === undefined) {
        // Only 'execute' starts a session; any other action continues one (§3.4).
        if (action !== 'execute') throw commandError('bad-request', 'bad-sessionid', 'this action needs a sessionid');
        const r = sessions.start(node, ev.from.toString(), ev.from.bareString(), host);
        if (r === 'per-user-limit') throw new StanzaError('resource-constraint', `at most ${o.maxSessionsPerUser} open command sessions per account`);
        if (r === 'total-limit') throw new StanzaError('resource-constraint', 'too many open command sessions');
        s = r; started.inc();
      } else {
        const r = sessions.get(sid);
        if (r === 'expired') throw commandError('not-allowed', 'session-expired');
        // Another requester's or another command's session is unknown to this one (§3.4).
        if (!r || r.requester !== ev.from.toString() || r.node !== node || r.host !== host) throw commandError('bad-request', 'bad-sessionid');
        s = r;
        if (action === 'cancel') { sessions.end(s); return reply(s, 'canceled'); }
        const wanted = action === 'execute' ? s.execute : action;
        if (!(s.actions as string[]).includes(wanted)) throw commandError('bad-request', 'bad-action');
        sessions.touch(s);
      }

      let r: CommandReply;
      try {
        r = await cmd.run({ host, from: ev.from, form, stage: s.stage, state: s.state });
      } catch (e) {
        sessions.end(s);
        throw e;
      }
      if (r.status === 'completed') { sessions.end(s); return reply(s, 'completed', r); }
      s.stage++;
      s.actions = r.actions;
      s.execute = r.execute ?? r.actions[r.actions.length - 1] ?? 'complete';
      return reply(s, 'executing', r);
    });
  },
});
