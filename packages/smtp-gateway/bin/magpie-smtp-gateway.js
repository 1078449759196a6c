#!/usr/bin/env node
// The `magpie-smtp-gateway` command. A committed launcher, because npm links a package's bin at
// install time, before `prepare` has compiled dist/: the target must already exist then.
import('../dist/cli.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') console.error('magpie-smtp-gateway: not built yet; run `npm run build` first');
  else console.error(e);
  process.exit(1);
});
