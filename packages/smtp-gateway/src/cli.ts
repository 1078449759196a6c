// The `magpie-smtp-gateway` command: magpie-smtp-gateway --config FILE (default ./smtp-gateway.yaml).
// Starts the gateway and stops it cleanly on SIGINT/SIGTERM. Exit code 1 on a configuration
// error or when the XMPP server or the SMTP port cannot be reached at start.

import { parseArgs } from 'node:util';
import { loadGatewayConfig, GatewayConfigError } from './config.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c', default: 'smtp-gateway.yaml' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { console.log('usage: magpie-smtp-gateway [--config FILE]'); return; }
  const cfg = loadGatewayConfig(values.config!);
  const gw = await startGateway(cfg);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    gw.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof GatewayConfigError ? e.message : `magpie-smtp-gateway: ${(e as Error).message}`);
  process.exit(1);
});
