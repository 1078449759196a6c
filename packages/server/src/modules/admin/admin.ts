// Service Administration (XEP-0133 1.3) as ad-hoc commands (XEP-0050, module 'adhoc') on each
// hosted domain, for that host's administrators only (hosts[].admins): everyone else neither
// sees them in the command list nor may run them (forbidden).

import { z } from 'zod';
import { defineModule } from '../module.js';
import { ADHOC, type AdhocService } from '../adhoc/commands.js';
import { accountCommands, type AdminContext } from './account-commands.js';
import { onlineCommands } from './online-commands.js';

const options = z.object({
  /** Accounts one Delete User command may name (§4.2 takes several). */
  maxAccountsPerCommand: z.number().int().min(1).max(10_000).default(100),
  /** Most JIDs one Get List of Online Users answer holds, whatever max_items asks (§4.21). */
  maxListedUsers: z.number().int().min(1).max(100_000).default(1000),
  /** Message type of announcements (§4.23): 'headline' is neither stored offline nor archived. */
  announceType: z.enum(['headline', 'normal']).default('headline'),
}).strict();

export default defineModule({
  manifest: {
    name: 'admin',
    description: 'Service administration commands for the hosts\u2019 administrators (hosts[].admins)',
    specs: [{ spec: 'XEP-0133', version: '1.3', status: 'partial', notes: 'add-user, delete-user, change-user-password, get-registered-users-num, get-online-users-num, get-online-users-list, announce; online users are those of the answering cluster node' }],
    options,
    depends: ['adhoc'],
    defaultEnabled: true,
  },
  setup(api) {
    const adhoc = api.service<AdhocService>(ADHOC)!;
    const ctx: AdminContext = { api, allowed: (from, host) => adhoc.isAdmin(from, host) };
    for (const c of [...accountCommands(ctx), ...onlineCommands(ctx)]) api.onUnload(adhoc.register(c));
  },
});
