#!/usr/bin/env node
// Builds the browser bundle of @magpie/client with esbuild: ESM, minified, from the TypeScript
// sources (magpie-src condition), platform=browser so any node: import fails the build (the
// browser entry must never reach node:net/node:tls). Writes dist/browser/magpie-client.js (the
// main entry with every plugin) and prints its raw and gzip sizes.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'dist', 'browser');
mkdirSync(out, { recursive: true });
const plugins = ['messages', 'presence', 'roster', 'blocking', 'carbons', 'mam', 'disco', 'muc', 'pep', 'upload'];
const entry = join(out, '_all.ts');
writeFileSync(entry, `export * from '../../src/index.ts';\nexport * from '../../src/uri.ts';\n${plugins.map((p) => `export * from '../../src/plugins/${p}.ts';`).join('\n')}\n`);
await build({
  entryPoints: { 'magpie-client': entry }, outdir: out, bundle: true, format: 'esm', platform: 'browser',
  target: 'es2022', minify: true, sourcemap: true, conditions: ['magpie-src'], legalComments: 'none', logLevel: 'warning',
});
const js = readFileSync(join(out, 'magpie-client.js'));
console.log(`dist/browser/magpie-client.js: ${(js.length / 1024).toFixed(1)} KiB minified, ${(gzipSync(js, { level: 9 }).length / 1024).toFixed(1)} KiB gzip`);
