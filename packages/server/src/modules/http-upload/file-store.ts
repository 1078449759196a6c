// Where uploaded files live (XEP-0363 leaves storage to the service). One small interface so
// an S3-compatible backend can be added beside the disk one without touching the protocol
// code. Files are stored under their slot id only: the user's file name never reaches the file
// system, so no name can escape the directory or collide.

import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export class TooLarge extends Error {}

export interface FileStore {
  /** Store exactly `size` bytes from `body` under `id`; rejects with TooLarge past `size`, and on a short body. */
  put(id: string, body: Readable, size: number): Promise<void>;
  /** A stream of the file, or undefined when absent. */
  get(id: string): Promise<{ stream: Readable; size: number } | undefined>;
  delete(id: string): Promise<void>;
}

const SAFE_ID = /^[A-Za-z0-9_-]{16,64}$/;

export class DiskFileStore implements FileStore {
  constructor(private readonly dir: string) { mkdirSync(dir, { recursive: true, mode: 0o700 }); }

  private path(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error('bad file id');
    return join(this.dir, id);
  }

  async put(id: string, body: Readable, size: number): Promise<void> {
    const final = this.path(id);
    const temp = final + '.part';
    let seen = 0;
    // Count as the bytes arrive: a client that sends more than it announced is cut off at once
    // instead of filling the disk.
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (seen > size) cb(new TooLarge('more bytes than the slot allows')); else cb(null, chunk);
      },
    });
    try {
      await pipeline(body, limit, createWriteStream(temp, { mode: 0o600 }));
      if (seen !== size) throw new Error(`short upload: ${seen} of ${size} bytes`);
      await rename(temp, final);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async get(id: string): Promise<{ stream: Readable; size: number } | undefined> {
    const p = this.path(id);
    try {
      const s = await stat(p);
      return { stream: createReadStream(p), size: s.size };
    } catch { return undefined; }
  }

  async delete(id: string): Promise<void> { await rm(this.path(id), { force: true }); }
}
