// XEP-0133 1.3 commands about who is online: Get Number of Online Users (§4.14), Get List of
// Online Users (§4.21, at most max_items and never more than modules.options.admin.maxListedUsers)
// and Send Announcement to Online Users (§4.23: one message from the host to every connected
// resource of the host). "Online" is a bound session on this server process: in a cluster, the
// users connected to the node that answers.

import { xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { buildDataForm } from '@magpie/core/protocol/data-form';
import type { ClientSession } from '../../session/session.js';
import type { AdhocCommand } from '../adhoc/commands.js';
import { badPayload } from '../adhoc/commands.js';
import { ADMIN_FORM, adminNode, field, requiredText, submitted, text } from './forms.js';
import { formCommand, type AdminContext } from './account-commands.js';

const MAX_ITEMS = ['25', '50', '75', '100', '150', '200', 'none'];

export function onlineCommands(ctx: AdminContext): AdhocCommand[] {
  const { api } = ctx;
  const o = api.options;
  const sessionsOf = (host: string): ClientSession[] => [...api.sessions.all()].filter((s) => s.jid.domain === host && !s.closed);
  const usersOf = (host: string): string[] => [...new Set(sessionsOf(host).map((s) => s.jid.bareString()))].sort();

  const onlineNum: AdhocCommand = {
    node: adminNode('get-online-users-num'), name: 'Get Number of Online Users', allowed: ctx.allowed,
    run: (req) => ({ status: 'completed', form: buildDataForm('result', ADMIN_FORM, [{ var: 'onlineusersnum', label: 'The number of online users', values: [String(usersOf(req.host).length)] }]) }),
  };

  const onlineList = formCommand(ctx, 'get-online-users-list', 'Get List of Online Users',
    () => buildDataForm('form', ADMIN_FORM, [{
      var: 'max_items', type: 'list-single', label: 'Maximum number of items to report', values: ['25'],
      extra: MAX_ITEMS.map((v) => xml('option', NS.DATA_FORMS, { label: v }, xml('value', NS.DATA_FORMS, {}, v))),
    }], { title: 'Requesting List of Online Users' }),
    async (req) => {
      const max = text(submitted(req.form), 'max_items') ?? '25';
      if (!MAX_ITEMS.includes(max)) throw badPayload(`max_items must be one of ${MAX_ITEMS.join(', ')}`);
      const limit = Math.min(max === 'none' ? Infinity : Number(max), o.maxListedUsers);
      const users = usersOf(req.host);
      const form = buildDataForm('result', ADMIN_FORM, [{ var: 'onlineuserjids', type: 'jid-multi', label: 'The list of all online users', values: users.slice(0, limit) }]);
      const notes = users.length > limit ? [{ type: 'info' as const, text: `${limit} of ${users.length} online users listed` }] : [];
      return { status: 'completed', form, notes };
    });

  const announce = formCommand(ctx, 'announce', 'Send Announcement to Online Users',
    () => buildDataForm('form', ADMIN_FORM, [
      field('subject', 'text-single', 'Subject', false),
      field('announcement', 'text-multi', 'Announcement'),
    ], { title: 'Making an Announcement', instructions: 'Fill out this form to make an announcement to all active users of this service.' }),
    async (req) => {
      const f = submitted(req.form);
      const subject = text(f, 'subject');
      const lines = f.fields.get('announcement')?.values ?? [];
      const body = lines.join('\n');
      if (body.trim() === '') requiredText(f, 'announcement');
      const targets = sessionsOf(req.host);
      for (const s of targets) {
        await api.send(xml('message', NS.CLIENT, { type: o.announceType, from: req.host, to: s.jid.toString() },
          subject !== undefined ? xml('subject', NS.CLIENT, {}, subject) : undefined,
          xml('body', NS.CLIENT, {}, body)));
      }
      api.log.info({ admin: req.from.bareString(), host: req.host, resources: targets.length }, 'admin command: announcement sent');
      return { status: 'completed', notes: [{ type: 'info', text: `announcement sent to ${targets.length} connected resources` }] };
    });

  return [onlineNum, onlineList, announce];
}
