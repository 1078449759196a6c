// The configuration examples in docs/ must stay valid: every ```yaml block of the operator guides
// that is a whole configuration (it has `hosts:`) is parsed and validated by the server's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { validateConfig } from '@magpie/server/config/load';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

for (const doc of ['docs/deployment.md', 'docs/configuration.md']) {
  test(`${doc}: every full configuration example validates`, () => {
    const text = readFileSync(join(root, doc), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^hosts:/m.test(b));
    assert.ok(blocks.length > 0, `${doc} has configuration examples`);
    for (const b of blocks) {
      assert.doesNotThrow(() => validateConfig(parse(b)), `example in ${doc}:\n${b}`);
    }
  });
}
