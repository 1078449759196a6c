// Renders docs/xep-support.md from the module manifests, so the list of supported
// specifications is always what the modules declare (the ejabberd lesson). Regenerate with
// `npm run docs:xeps`; a test fails when the committed file differs.

import { builtinModules } from './index.js';
import { DiscoRegistry } from './disco-registry.js';
import { CORE_SPECS } from '../stream/specs.js';

export function renderXepSupport(): string {
  const rows: { spec: string; version: string; status: string; module: string; notes: string }[] = [];
  for (const s of CORE_SPECS) rows.push({ spec: s.spec, version: s.version ?? '', status: s.status, module: '(core)', notes: s.notes ?? '' });
  for (const m of builtinModules(new DiscoRegistry())) {
    for (const s of m.manifest.specs) rows.push({ spec: s.spec, version: s.version ?? '', status: s.status, module: m.manifest.name, notes: s.notes ?? '' });
  }
  const key = (s: string): [number, number] => {
    const m = /^(RFC|XEP)[- ](\d+)/.exec(s);
    return m ? [m[1] === 'RFC' ? 0 : 1, Number(m[2])] : [2, 0];
  };
  rows.sort((a, b) => { const ka = key(a.spec), kb = key(b.spec); return ka[0] - kb[0] || ka[1] - kb[1] || a.module.localeCompare(b.module); });
  const lines = [
    '# Supported specifications',
    '',
    'Generated from the module manifests by `npm run docs:xeps`; do not edit by hand.',
    'Core protocol support (streams, TLS, SASL, binding, addresses) is described in the README.',
    '',
    '| specification | version | status | module | notes |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.spec} | ${r.version} | ${r.status} | ${r.module} | ${r.notes.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}
