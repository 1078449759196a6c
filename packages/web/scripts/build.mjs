#!/usr/bin/env node
// Builds the web client into dist/: index.html, assets/app-HASH.js (one ES module bundle, the
// library compiled from source through the `magpie-src` condition) and assets/app-HASH.css.
// Hashed names let the server cache them for a year; index.html names the current ones.
// `--sizes` prints raw (unminified), minified and gzip sizes of the bundle.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(root, 'dist');
const sizes = process.argv.includes('--sizes');

const common = {
  entryPoints: { app: join(root, 'src/main.tsx') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  conditions: ['magpie-src'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
};

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
const res = await build({
  ...common,
  entryPoints: { ...common.entryPoints, style: join(root, 'src/styles.css') },
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  minify: true,
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
});
const outputs = Object.keys(res.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
const css = outputs.find((f) => f.startsWith('style-') && f.endsWith('.css'));
if (!js || !css) throw new Error(`unexpected build outputs: ${outputs.join(', ')}`);

const html = readFileSync(join(root, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', `/assets/${js}`)
  .replace('%APP_CSS%', `/assets/${css}`);
writeFileSync(join(out, 'index.html'), html);

if (sizes) {
  const raw = await build({ ...common, write: false, minify: false, outdir: '/tmp/unused' });
  const rawJs = raw.outputFiles.find((f) => f.path.endsWith('.js')).contents.length;
  const min = readFileSync(join(out, 'assets', js));
  const minCss = readFileSync(join(out, 'assets', css));
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`JS  raw ${kb(rawJs)}, minified ${kb(min.length)}, gzip ${kb(gzipSync(min, { level: 9 }).length)}`);
  console.log(`CSS minified ${kb(minCss.length)}, gzip ${kb(gzipSync(minCss, { level: 9 }).length)}`);
}
console.log(`built ${out}: index.html, assets/${js}, assets/${css}`);
