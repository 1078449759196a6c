#!/usr/bin/env node
// `npm run bench -- [options]`: installs the peers (Prosody, ejabberd; Debian packages, when run as
// root), builds Magpie, then runs bench/run.mjs, which starts every server itself, measures, prints
// a table, writes bench/results/<timestamp>.json and appends to bench/RESULTS.md. `--help` lists the
// options; `--no-install` / `--no-build` skip the first two steps.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const help = args.includes('--help') || args.includes('-h') || args.some((a) => a.startsWith('--render'));

if (!help && !args.includes('--no-install')) {
  execFileSync('bash', ['scripts/install-peers.sh'], { cwd: root, stdio: 'inherit' });
}
if (!help && !args.includes('--no-build')) {
  console.log('building Magpie (tsc -b packages/core packages/server)');
  execFileSync('npx', ['tsc', '-b', 'packages/core', 'packages/server'], { cwd: root, stdio: 'inherit' });
}
process.chdir(root);
await import('../bench/run.mjs');
