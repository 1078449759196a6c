// Writes docs/xep-support.md from the module manifests.
import { writeFileSync } from 'node:fs';
import { renderXepSupport } from '@magpie/server/modules/xep-support';
writeFileSync(new URL('../docs/xep-support.md', import.meta.url), renderXepSupport());
console.log('wrote docs/xep-support.md');
