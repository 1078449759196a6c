#!/usr/bin/env node
// Runs every *.test.ts (unit tests beside the code under packages/, end-to-end scenarios under
// test/) with Node's own test runner, TypeScript loaded through tsx from source
// (the `magpie-src` export condition). Optional arguments narrow to paths containing them.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
walk(join(root, 'packages'));
walk(join(root, 'test'));
const chosen = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (chosen.length === 0) { console.error('no test files matched'); process.exit(1); }
const args = ['--conditions=magpie-src', '--import', 'tsx', '--test', '--test-reporter=spec',
  `--test-concurrency=${process.env.MAGPIE_TEST_CONCURRENCY ?? 2}`, ...chosen];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env } });
let status = r.status ?? 1;
// The whole suite (no filters) runs the IM scenarios a second time with every test server a
// cluster node on PostgreSQL and Redis (issue #8: "the IM scenarios also pass on the cluster
// configuration"; test/support/cluster-mode.ts). MAGPIE_TEST_CLUSTER_PASS=0 leaves it out.
if (filters.length === 0 && process.env.MAGPIE_TEST_CLUSTER_PASS !== '0' && !process.env.MAGPIE_TEST_CLUSTER) {
  const im = files.filter((f) => f.startsWith('test/im/')).sort();
  console.log(`\n# IM scenarios again as cluster nodes (MAGPIE_TEST_CLUSTER=1): ${im.length} files`);
  const c = spawnSync(process.execPath, [...args.slice(0, 6), ...im], { cwd: root, stdio: 'inherit', env: { ...process.env, MAGPIE_TEST_CLUSTER: '1' } });
  if (status === 0) status = c.status ?? 1;
}
process.exit(status);
