#!/usr/bin/env node
// Browser bundle size of the same login-and-message job (bench/client-bundle/<lib>.ts) written
// with @magpie/client, @xmpp/client and stanza: each bundled by esbuild for the browser (ESM,
// minified, tree-shaken), then gzip -9. `node bench/client-bundle.mjs [--append]` prints a table;
// --append adds it to bench/RESULTS.md. Libraries that need Node built-ins in the browser get
// esbuild's empty shims for them (what a bundler user would configure), and the warning is noted.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const libs = [
  ['@magpie/client', 'magpie.ts', JSON.parse(readFileSync(join(root, 'packages/client/package.json'), 'utf8')).version],
  ['@xmpp/client', 'xmppjs.ts', JSON.parse(readFileSync(join(root, 'node_modules/@xmpp/client/package.json'), 'utf8')).version],
  ['stanza', 'stanza.ts', JSON.parse(readFileSync(join(root, 'node_modules/stanza/package.json'), 'utf8')).version],
];
// Node built-ins left in a browser build resolve to an empty module, as a bundler user would
// configure (xmpp.js's resolve/DNS code is Node-only but reachable from its main entry).
let shimmed = new Set();
const emptyNodeBuiltins = {
  name: 'empty-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:|^(dns|net|tls|os)$/ }, (a) => { shimmed.add(a.path); return { path: a.path, namespace: 'empty' }; });
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {}', loader: 'js' }));
  },
};
const tmp = mkdtempSync(join(tmpdir(), 'client-bundle-'));
const rows = [];
for (const [name, file, version] of libs) {
  const outfile = join(tmp, file.replace('.ts', '.js'));
  shimmed = new Set();
  const r = await build({
    entryPoints: [join(root, 'bench/client-bundle', file)], outfile, bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', minify: true, conditions: ['magpie-src'], legalComments: 'none', logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' }, plugins: [emptyNodeBuiltins],
  }).catch((e) => ({ errors: e.errors ?? [String(e)], warnings: [] }));
  if (r.errors?.length) { rows.push([name, version, 'build failed: ' + (r.errors[0].text ?? r.errors[0]), '', '']); continue; }
  const js = readFileSync(outfile);
  rows.push([name, version, (js.length / 1024).toFixed(1), (gzipSync(js, { level: 9 }).length / 1024).toFixed(1), [shimmed.size ? `Node built-ins stubbed: ${[...shimmed].sort().join(', ')}` : '', r.warnings.length ? `${r.warnings.length} esbuild warnings` : ''].filter(Boolean).join('; ')]);
}
rmSync(tmp, { recursive: true, force: true });
const table = ['| library | version | minified KiB | min+gzip KiB | notes |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
console.log(table);
if (process.argv.includes('--append')) {
  appendFileSync(join(root, 'bench/RESULTS.md'), `\n## Client library browser bundle size (${new Date().toISOString().slice(0, 10)})\n\n` +
    'Same job in each library: log in over WebSocket, send one chat message, disconnect ' +
    '(`bench/client-bundle/<lib>.ts`). Bundled with esbuild ' + JSON.parse(readFileSync(join(root, 'node_modules/esbuild/package.json'), 'utf8')).version +
    ' (`--bundle --format=esm --platform=browser --minify`, tree-shaking on), gzip level 9. ' +
    'Command: `node bench/client-bundle.mjs --append`.\n\n' + table + '\n');
}
