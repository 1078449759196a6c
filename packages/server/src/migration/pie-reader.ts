// Reading a XEP-0227 file user by user (§2 file format, §3 XInclude). Magpie's own streaming
// parser does the XML: <server-data> is its root, each <host> a container (parser.ts,
// isContainer), so one <user> at a time is built in memory, never the whole host; a user larger
// than `maxUserBytes` is refused by the parser's stanza limit. The parser refuses DTDs, entity
// declarations, comments and processing instructions (RFC 6120 §11.1), which leaves no room for
// XXE or entity expansion.
//
// XInclude (§3): <include href/> children of <server-data> name host files, children of <host>
// name user files (§3.1 layout); the importer MUST follow relative hrefs (§3). Only those are
// followed: a relative path without a scheme, inside the directory of the main file (a file
// being imported must not make us read /etc/shadow), with no xpointer and no parse other than
// 'xml'. Includes deeper inside a <user/> are user data (§4) and are left alone.

import { createReadStream, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { Element } from '@magpie/core/xml/element';
import { StreamParser, type ParserLimits } from '@magpie/core/xml/parser';
import { NS_PIE, NS_XINCLUDE } from './pie-format.js';

export interface ReadLimits extends Pick<ParserLimits, 'maxDepth' | 'maxAttributes' | 'maxNameLength' | 'maxHeaderBytes'> {
  /** Bytes of one <user/> element (the parser's stanza limit). */
  maxUserBytes: number;
  /** Bytes read over the main file and every included file. */
  maxFileBytes: number;
}

export interface PieVisitor {
  /** A host begins (its jid attribute as written); false skips its users. */
  host(jid: string | undefined): boolean;
  user(host: string, user: Element): Promise<void>;
  /** Unknown or unsupported content, skipped (§2: SHOULD ignore and notify). */
  warn(msg: string): void;
}

export class PieFormatError extends Error {}

type Ev = { k: 'host'; jid: string | undefined } | { k: 'endhost' } | { k: 'el'; el: Element } | { k: 'root'; el: Element } | { k: 'end' };

export class PieReader {
  private bytes = 0;
  private readonly base: string;
  /** Bytes of the files read so far (the main file and its includes). */
  get bytesRead(): number { return this.bytes; }

  constructor(private readonly main: string, private readonly limits: ReadLimits, private readonly v: PieVisitor) {
    this.base = dirname(realpathSync(main));
  }

  async read(): Promise<void> { await this.file(this.main, 'server-data', undefined); }

  /** One file whose root is `expect` (server-data, host or user); `host` is the enclosing host. */
  private async file(path: string, expect: 'server-data' | 'host' | 'user', host: string | undefined): Promise<void> {
    const size = statSync(path).size;
    if (this.bytes + size > this.limits.maxFileBytes) throw new PieFormatError(`${path}: the import is larger than migration.maxFileBytes (${this.limits.maxFileBytes} bytes)`);
    if (expect === 'user' && size > this.limits.maxUserBytes) throw new PieFormatError(`${path}: a user file larger than migration.maxUserBytes (${this.limits.maxUserBytes} bytes)`);
    this.bytes += size;
    const queue: Ev[] = [];
    let error: string | undefined;
    let root: Element | undefined;
    // Set as the root opens (the parser asks isContainer before queued events are handled).
    let hostsContained = false;
    const parser = new StreamParser({
      onStreamOpen: (i) => {
        const el = new Element(i.name, i.xmlns);
        el.attrs = i.attrs;
        hostsContained = i.name === 'server-data' && i.xmlns === NS_PIE;
        queue.push({ k: 'root', el });
      },
      onElement: (el) => queue.push({ k: 'el', el }),
      onStreamClose: () => queue.push({ k: 'end' }),
      onError: (c, t) => { error ??= `${c}: ${t}`; },
      isContainer: (name, ns, depth) => hostsContained && depth === 0 && name === 'host' && ns === NS_PIE,
      onContainerOpen: (el) => queue.push({ k: 'host', jid: el.attrs.jid }),
      onContainerClose: () => queue.push({ k: 'endhost' }),
    }, {
      maxStanzaBytes: this.limits.maxUserBytes, maxDepth: this.limits.maxDepth, maxAttributes: this.limits.maxAttributes,
      maxNameLength: this.limits.maxNameLength, maxHeaderBytes: this.limits.maxHeaderBytes,
    });
    let curHost = host;
    let skipHost = false;
    let inContainer = false;
    let closed = false;
    const dir = dirname(path);
    const handle = async (ev: Ev): Promise<void> => {
      switch (ev.k) {
        case 'root':
          root = ev.el;
          if (ev.el.xmlns !== NS_PIE || ev.el.name !== expect) throw new PieFormatError(`${path}: expected <${expect} xmlns='${NS_PIE}'/> as the root, found <${ev.el.name} xmlns='${ev.el.xmlns}'/>`);
          if (expect === 'host') { curHost = ev.el.attrs.jid; skipHost = !this.v.host(curHost); }
          return;
        case 'host': curHost = ev.jid; inContainer = true; skipHost = !this.v.host(ev.jid); return;
        case 'endhost': curHost = host; inContainer = false; skipHost = false; return;
        case 'end': closed = true; if (expect === 'user' && root) await this.v.user(curHost ?? '', root); return;
        case 'el': break;
      }
      const el = ev.el;
      if (expect === 'user') { root!.children.push(el); return; }
      // Where users may appear: in a host container, or at the top of a host file.
      const inHost = expect === 'host' || inContainer;
      if (el.name === 'include' && el.xmlns === NS_XINCLUDE) {
        if (inHost && skipHost) return;
        await this.file(this.includePath(dir, el), inHost ? 'user' : 'host', inHost ? curHost : undefined);
        return;
      }
      if (inHost && el.name === 'user' && el.xmlns === NS_PIE) {
        if (!skipHost) await this.v.user(curHost ?? '', el);
        return;
      }
      this.v.warn(`${path}: <${el.name} xmlns='${el.xmlns}'/> ${inHost ? `in host ${curHost}` : 'in <server-data/>'} is not understood; skipped`);
    };
    const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
    try {
      for await (const chunk of stream) {
        parser.write(chunk as Buffer);
        // Events are handled between chunks, so a user's (asynchronous) import is done before
        // the next 64 KiB are parsed: at most one chunk of parsed users waits in memory.
        while (queue.length) await handle(queue.shift()!);
        if (error) throw new PieFormatError(`${path}: ${error}`);
      }
    } finally {
      stream.destroy();
    }
    if (!closed) throw new PieFormatError(`${path}: the document ends before its root element is closed`);
  }

  private includePath(dir: string, el: Element): string {
    const href = el.attrs.href;
    if (!href) throw new PieFormatError('an XInclude <include/> without href');
    if (el.attrs.xpointer !== undefined || (el.attrs.parse !== undefined && el.attrs.parse !== 'xml')) {
      throw new PieFormatError(`XInclude of ${href}: only whole XML documents are supported (no xpointer, parse='xml')`);
    }
    // A relative URI reference: no scheme, no absolute path, no query or fragment.
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href) || isAbsolute(href) || href.startsWith('//') || /[?#]/.test(href)) {
      throw new PieFormatError(`XInclude of ${href}: only relative file paths are followed`);
    }
    let decoded: string;
    try { decoded = decodeURIComponent(href); } catch { throw new PieFormatError(`XInclude of ${href}: bad percent-encoding`); }
    let target: string;
    try { target = realpathSync(resolve(dir, decoded)); } catch { throw new PieFormatError(`XInclude of ${href}: no such file`); }
    const rel = relative(this.base, target);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new PieFormatError(`XInclude of ${href}: outside the directory of the imported file`);
    return target;
  }
}
