import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderXepSupport } from './xep-support.js';

it('docs/xep-support.md matches the module manifests (run npm run docs:xeps)', () => {
  const committed = readFileSync(new URL('../../../../docs/xep-support.md', import.meta.url), 'utf8');
  assert.equal(committed, renderXepSupport());
});
