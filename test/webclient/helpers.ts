// Shared by the web client tests: building the bundle once per test process, and a driver for
// one user's browser page that acts through the page's own labels and roles (the way a user,
// or a screen reader, finds things).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Locator } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export { CHROMIUM } from '../support/chromium.js';
import { CHROMIUM_ARGS as BASE_ARGS } from '../support/chromium.js';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'webclient');
let built = false;

/** Run the real build (packages/web/scripts/build.mjs) so the tests serve the current sources. */
export function buildWebClient(): string {
  if (!built) {
    const r = spawnSync(process.execPath, [join(ROOT, 'packages/web/scripts/build.mjs')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`web client build failed:\n${r.stdout}\n${r.stderr}`);
    built = true;
  }
  return join(ROOT, 'packages/web/dist');
}

export const CHROMIUM_ARGS = [...BASE_ARGS,
  // The https listener (uploads, inline images) has the test server's self-signed certificate.
  '--ignore-certificate-errors'];

export class WebUser {
  readonly errors: string[] = [];
  private constructor(readonly context: BrowserContext, readonly page: Page, readonly jid: string) {}

  static async open(browser: Browser, url: string, jid: string, viewport = { width: 1200, height: 800 }): Promise<WebUser> {
    const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const u = new WebUser(context, page, jid);
    page.on('pageerror', (e) => u.errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') u.errors.push(m.text()); });
    await page.goto(url);
    return u;
  }

  async login(password: string): Promise<void> {
    await this.page.getByLabel('Address (JID)').fill(this.jid);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.status('online');
  }

  /** Wait for the connection status shown in the page. */
  async status(s: string, timeout = 20000): Promise<void> {
    await this.page.locator(`.conn[data-status="${s}"]`).waitFor({ timeout });
  }

  contact(jid: string): Locator { return this.page.locator(`button.contact[data-jid="${jid}"]`); }

  async openChat(jid: string): Promise<void> {
    await this.contact(jid).click();
    await this.page.getByRole('region', { name: /^Chat with / }).waitFor();
  }

  messages(): Locator { return this.page.locator('ol.lines > li.line'); }

  async waitForLine(text: string, timeout = 20000): Promise<Locator> {
    const l = this.page.locator('ol.lines > li.line', { hasText: text });
    await l.first().waitFor({ timeout });
    return l.first();
  }

  async send(text: string): Promise<void> {
    const box = this.page.locator('#composer-text');
    await box.fill(text);
    await box.press('Enter');
  }

  async shot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    await this.page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  }

  async close(): Promise<void> { await this.context.close(); }
}

/** A solid-colour RGB PNG of w×h pixels (PNG spec: signature, IHDR, one IDAT, IEND). */
export function solidPng(w: number, h: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3).map((_, i) => rgb[i % 3]!)]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
