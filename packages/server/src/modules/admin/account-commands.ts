// XEP-0133 1.3 account commands: Add User (§4.1), Delete User (§4.2), Change User Password
// (§4.7) and Get Number of Registered Users (§4.12). They go through the account service like
// the `magpie adduser / deluser / passwd` commands (deleting an account closes its sessions and
// fires account/deleted, so its data goes with it). Every change is logged with the admin who
// made it; passwords never are.

import { buildDataForm } from '@magpie/core/protocol/data-form';
import { StanzaError } from '@magpie/core/protocol/errors';
import { AccountExistsError } from '../../accounts/accounts.js';
import type { ModuleApi } from '../module.js';
import type { AdhocCommand, CommandReply, CommandRequest } from '../adhoc/commands.js';
import { badPayload } from '../adhoc/commands.js';
import { ADMIN_FORM, accountOf, adminNode, field, requiredText, submitted, text } from './forms.js';

export interface AdminContext {
  api: ModuleApi<{ maxAccountsPerCommand: number; maxListedUsers: number; announceType: 'headline' | 'normal' }>;
  allowed: AdhocCommand['allowed'];
}

/** A command that shows one form, then acts on it (a client may also submit it at once). */
export function formCommand(ctx: AdminContext, name: string, label: string, form: (req: CommandRequest) => ReturnType<typeof buildDataForm>,
  act: (req: CommandRequest) => Promise<CommandReply>): AdhocCommand {
  return {
    node: adminNode(name), name: label, allowed: ctx.allowed,
    run: (req) => (req.stage === 0 && !req.form
      ? { status: 'executing', form: form(req), actions: ['complete'] }
      : act(req)),
  };
}

export function accountCommands(ctx: AdminContext): AdhocCommand[] {
  const { api } = ctx;
  const o = api.options;
  const who = (req: CommandRequest) => ({ admin: req.from.bareString(), host: req.host });

  const addUser = formCommand(ctx, 'add-user', 'Add User',
    () => buildDataForm('form', ADMIN_FORM, [
      field('accountjid', 'jid-single', 'The Jabber ID for the account to be added'),
      field('password', 'text-private', 'The password for this account'),
      field('password-verify', 'text-private', 'Retype password'),
    ], { title: 'Adding a User', instructions: 'Fill out this form to add a user.' }),
    async (req) => {
      const f = submitted(req.form);
      const j = accountOf(requiredText(f, 'accountjid'), req.host);
      const pw = requiredText(f, 'password');
      const verify = text(f, 'password-verify');
      if (verify !== undefined && verify !== pw) throw badPayload('the passwords do not match');
      try { await api.accounts.create(req.host, j.local, pw); } catch (e) {
        if (e instanceof AccountExistsError) throw new StanzaError('conflict', `${j.bareString()} already exists`);
        throw e;
      }
      api.log.info({ ...who(req), account: j.bareString() }, 'admin command: account created');
      return { status: 'completed', notes: [{ type: 'info', text: `${j.bareString()} created` }] };
    });

  const deleteUser = formCommand(ctx, 'delete-user', 'Delete User',
    () => buildDataForm('form', ADMIN_FORM, [field('accountjids', 'jid-multi', 'The Jabber ID(s) to delete')],
      { title: 'Deleting a User', instructions: 'Fill out this form to delete a user.' }),
    async (req) => {
      const f = submitted(req.form);
      const values = (f.fields.get('accountjids')?.values ?? []).filter((v) => v.trim() !== '');
      if (values.length === 0) throw badPayload("field 'accountjids' is required");
      if (values.length > o.maxAccountsPerCommand) throw badPayload(`at most ${o.maxAccountsPerCommand} accounts per command`);
      // Every JID is checked before the first deletion: a typo deletes nothing.
      const jids = values.map((v) => accountOf(v, req.host));
      const deleted: string[] = [];
      const missing: string[] = [];
      for (const j of jids) {
        if (await api.accounts.delete(req.host, j.local)) {
          deleted.push(j.bareString());
          api.log.info({ ...who(req), account: j.bareString() }, 'admin command: account deleted');
        } else missing.push(j.bareString());
      }
      const notes: { type: 'info' | 'warn'; text: string }[] = [];
      if (deleted.length) notes.push({ type: 'info', text: `deleted: ${deleted.join(', ')}` });
      if (missing.length) notes.push({ type: 'warn', text: `no such account: ${missing.join(', ')}` });
      return { status: 'completed', notes };
    });

  const changePassword = formCommand(ctx, 'change-user-password', 'Change User Password',
    () => buildDataForm('form', ADMIN_FORM, [
      field('accountjid', 'jid-single', 'The Jabber ID for this account'),
      field('password', 'text-private', 'The password for this account'),
    ], { title: 'Changing a User Password', instructions: 'Fill out this form to change a user\u2019s password.' }),
    async (req) => {
      const f = submitted(req.form);
      const j = accountOf(requiredText(f, 'accountjid'), req.host);
      const pw = requiredText(f, 'password');
      if (!(await api.accounts.setPassword(req.host, j.local, pw))) throw new StanzaError('item-not-found', `no such account: ${j.bareString()}`);
      api.log.info({ ...who(req), account: j.bareString() }, 'admin command: password changed');
      return { status: 'completed', notes: [{ type: 'info', text: `password of ${j.bareString()} changed` }] };
    });

  const registeredNum: AdhocCommand = {
    node: adminNode('get-registered-users-num'), name: 'Get Number of Registered Users', allowed: ctx.allowed,
    async run(req) {
      const n = (await api.accounts.list(req.host)).length;
      return { status: 'completed', form: buildDataForm('result', ADMIN_FORM, [{ var: 'registeredusersnum', label: 'The number of registered users', values: [String(n)] }]) };
    },
  };

  return [addUser, deleteUser, changePassword, registeredNum];
}
