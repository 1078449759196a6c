// JIDs (RFC 7622): localpart@domainpart/resourcepart, each part prepared and enforced by
// ./precis.ts (UsernameCaseMapped, OpaqueString) and ./domain.ts (IDNA2008/UTS-46), each at
// most 1023 octets (§3.2-§3.4). A JID object is immutable and always holds the canonical form,
// so equality (§3.2.3, §3.3.3, §3.4.3: compare the enforced parts) is string equality.

import { JIDError } from './errors.js';
import { prepareLocal, prepareResource } from './precis.js';
import { prepareDomain } from './domain.js';

// JIDError is defined in ./errors.ts (the part-preparing modules throw it too; defining it here
// would make an import cycle) and re-exported so that callers import it from this module.
export { JIDError };
export { jidEscape, jidUnescape } from './escaping.js';

export class JID {
  private _str?: string;
  private _bare?: JID;
  private constructor(readonly local: string, readonly domain: string, readonly resource: string) {}

  /** Parse and enforce (RFC 7622 §3.1 split, then each part's profile). Throws JIDError. */
  static parse(s: string): JID {
    const slash = s.indexOf('/');
    const beforeSlash = slash === -1 ? s : s.slice(0, slash);
    const at = beforeSlash.indexOf('@');
    const local = at === -1 ? '' : beforeSlash.slice(0, at);
    const domain = at === -1 ? beforeSlash : beforeSlash.slice(at + 1);
    if (at !== -1 && local === '') throw new JIDError('empty localpart');
    if (slash !== -1 && slash === s.length - 1) throw new JIDError('empty resourcepart');
    const resource = slash === -1 ? '' : s.slice(slash + 1);
    return JID.of(local, domain, resource);
  }

  /** Parse, returning undefined instead of throwing. */
  static tryParse(s: string | undefined): JID | undefined {
    if (s === undefined) return undefined;
    try { return JID.parse(s); } catch { return undefined; }
  }

  static of(local: string, domain: string, resource = ''): JID {
    const l = local === '' ? '' : prepareLocal(local);
    const d = prepareDomain(domain);
    const r = resource === '' ? '' : prepareResource(resource);
    return new JID(l, d, r);
  }

  get bare(): JID {
    if (this.resource === '') return this;
    return (this._bare ??= new JID(this.local, this.domain, ''));
  }
  get isBare(): boolean { return this.resource === ''; }
  get isDomain(): boolean { return this.local === '' && this.resource === ''; }
  withResource(resource: string): JID { return JID.of(this.local, this.domain, resource); }
  equals(other: JID | undefined): boolean { return !!other && this.toString() === other.toString(); }
  bareString(): string { return this.local ? this.local + '@' + this.domain : this.domain; }

  toString(): string {
    if (this._str === undefined) {
      let s = this.local ? this.local + '@' + this.domain : this.domain;
      if (this.resource) s += '/' + this.resource;
      this._str = s;
    }
    return this._str;
  }
  toJSON(): string { return this.toString(); }
}
