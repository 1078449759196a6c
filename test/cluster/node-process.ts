// One cluster node in its own process, for the tests that kill a node with SIGKILL: starts a
// test server with the overrides given as JSON in argv[2] and prints "PORT <c2s port>".
import { startTestServer } from '../support/server.js';
import { IM_MODULES } from '../im/roster-helpers.js';

const ts = await startTestServer(JSON.parse(process.argv[2]!) as Record<string, unknown>, { modules: IM_MODULES });
process.stdout.write(`PORT ${ts.port}\n`);
const stop = (): void => { void ts.stop().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
