import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentSecurityPolicy, contentType, fileKey, loadStaticFiles } from './static-files.js';

describe('web client static files', () => {
  it('maps request paths to files, refusing dot segments and NUL', () => {
    assert.equal(fileKey('/'), '/index.html');
    assert.equal(fileKey('/assets/app-ABCDEFGH.js'), '/assets/app-ABCDEFGH.js');
    assert.equal(fileKey('/assets/..%2findex.html'), undefined);
    assert.equal(fileKey('/a/./b'), undefined);
    assert.equal(fileKey('/x%00'), undefined);
    assert.equal(fileKey('/%E0%A4%A'), undefined);
  });
  it('knows the content types of a build', () => {
    assert.equal(contentType('a.JS'), 'text/javascript; charset=utf-8');
    assert.equal(contentType('a.css'), 'text/css; charset=utf-8');
    assert.equal(contentType('index.html'), 'text/html; charset=utf-8');
    assert.equal(contentType('weird.bin'), 'application/octet-stream');
  });
  it('loads a build: hashed files under assets/ are immutable, others not; dot files skipped; no index → undefined', () => {
    const dir = mkdtempSync(join(tmpdir(), 'magpie-static-'));
    try {
      assert.equal(loadStaticFiles(dir), undefined);
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), 'x');
      writeFileSync(join(dir, 'assets', 'app-AB12CD34.js'), 'y');
      writeFileSync(join(dir, 'assets', 'logo.svg'), '<svg/>');
      writeFileSync(join(dir, '.swp'), 'z');
      const f = loadStaticFiles(dir)!;
      assert.deepEqual([...f.keys()].sort(), ['/assets/app-AB12CD34.js', '/assets/logo.svg', '/index.html']);
      assert.equal(f.get('/assets/app-AB12CD34.js')!.immutable, true);
      assert.equal(f.get('/assets/logo.svg')!.immutable, false);
      assert.equal(f.get('/index.html')!.immutable, false);
      assert.match(f.get('/index.html')!.etag, /^"[\w-]{22}"$/);
      assert.throws(() => loadStaticFiles(dir, 2), /more than 2 files/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
  it('builds a CSP without inline script and with the WebSocket origin', () => {
    const csp = contentSecurityPolicy({ websocketOrigin: 'wss://chat.example:5443', extraConnectSrc: ['http://files.example'] });
    assert.match(csp, /connect-src 'self' wss:\/\/chat\.example:5443 https: http:\/\/files\.example/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  });
});
