import { it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ModuleLoader } from './loader.js';
import { defineModule, type MagpieModule } from './module.js';
import { DiscoRegistry } from './disco-registry.js';
import { Metrics } from './metrics.js';
import { HookBus } from '../hooks/bus.js';
import { Router } from '../router/router.js';
import { validateConfig } from '../config/load.js';
import { silentLogger } from '../log/logger.js';
import type { ServerCore } from '../server-core.js';

import { openStorage } from '../storage/index.js';

const storage = await openStorage({ type: 'sqlite', path: ':memory:' });
function core(modules: object): ServerCore {
  const hooks = new HookBus();
  const log = silentLogger();
  return { config: validateConfig({ modules }), hooks, log, storage, router: new Router({ hooks, log, isLocalHost: () => true }) } as unknown as ServerCore;
}
const mod = (name: string, extra: Partial<MagpieModule['manifest']> = {}, setup: MagpieModule['setup'] = () => {}): MagpieModule =>
  defineModule({ manifest: { name, description: name, specs: [], defaultEnabled: true, ...extra }, setup }) as MagpieModule;

it('orders by dependencies and validates options', async () => {
  const order: string[] = [];
  const a = mod('a', { depends: ['b'], options: z.object({ n: z.number().default(3) }).strict() }, (api) => { order.push(`a:${(api.options as { n: number }).n}`); });
  const b = mod('b', {}, () => { order.push('b'); });
  const l = new ModuleLoader(core({ options: { a: { n: 7 } } }), new DiscoRegistry(), new Metrics(), [a, b]);
  await l.loadAll();
  assert.deepEqual(order, ['b', 'a:7']);
  await assert.rejects(new ModuleLoader(core({ options: { a: { n: 'x' } } }), new DiscoRegistry(), new Metrics(), [a, b]).loadAll(), /modules\.options\.a: n:/);
});

it('refuses unknown modules, disabled dependencies and cycles', () => {
  const a = mod('a', { depends: ['b'] }); const b = mod('b');
  assert.throws(() => new ModuleLoader(core({ enabled: ['nope'] }), new DiscoRegistry(), new Metrics(), [a, b]).plan(), /unknown module 'nope'/);
  assert.throws(() => new ModuleLoader(core({ disabled: ['b'] }), new DiscoRegistry(), new Metrics(), [a, b]).plan(), /needs 'b', which is disabled/);
  const c1 = mod('c1', { depends: ['c2'] }); const c2 = mod('c2', { depends: ['c1'] });
  assert.throws(() => new ModuleLoader(core({}), new DiscoRegistry(), new Metrics(), [c1, c2]).plan(), /cycle/);
});

it('unloading removes hooks, iq handlers and disco features', async () => {
  const c = core({});
  const disco = new DiscoRegistry();
  const m = mod('m', {}, (api) => {
    api.hook('server/started', () => 'm');
    api.discoFeature('urn:example:m');
    api.iq({ type: 'get', scope: 'host', xmlns: 'urn:example:m', name: 'q' }, () => undefined);
  });
  const l = new ModuleLoader(c, disco, new Metrics(), [m]);
  await l.loadAll();
  assert.equal(await c.hooks.fire('server/started', {}), 'm');
  assert.ok(disco.hostFeatures.has('urn:example:m'));
  await l.unloadAll();
  assert.equal(await c.hooks.fire('server/started', {}), undefined);
  assert.ok(!disco.hostFeatures.has('urn:example:m'));
  // The iq handler slot is free again.
  assert.doesNotThrow(() => c.router.iq.add({ type: 'get', scope: 'host', xmlns: 'urn:example:m', name: 'q' }, () => undefined));
});
