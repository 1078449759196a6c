// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by
// scripts/install-peers.sh) driven by playwright-core, with the flags this machine needs
// (no sandbox as root; no background networking, which the closed network would refuse).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-component-update', '--disable-sync'];

export const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

/** Launch it; `extraArgs` e.g. --ignore-certificate-errors for pages on the test server's https listener. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
