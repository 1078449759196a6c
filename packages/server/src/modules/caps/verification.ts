// Entity Capabilities verification strings (XEP-0115 §5.1 generation, §5.4 processing): the
// string S built from a disco#info <query/> (identities, features, XEP-0128 forms), hashed and
// base64-encoded. The same code hashes the server's own answer (what it advertises) and checks
// a client's answer against the 'ver' it announced (what it may cache, §5.4 step 3).

import { createHash } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

/** Hash names (IANA "Hash Function Textual Names", §8.1) to node:crypto algorithm names. */
export const CAPS_HASHES: Readonly<Record<string, string>> = Object.freeze({
  'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512',
});

/** "i;octet" collation (RFC 4790 §9.3), which §5.1 requires: compare UTF-8 bytes, not UTF-16 units. */
export function octetCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function compareFields(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) { const c = octetCompare(a[i]!, b[i]!); if (c !== 0) return c; }
  return 0;
}

const fieldValues = (field: Element): string[] => field.getChildren('value', NS.DATA_FORMS).map((v) => v.text());

/**
 * The string S of §5.1 for a disco#info <query/>, or undefined when §5.4 steps 3.3-3.5 call the
 * response ill-formed (a repeated identity, feature or FORM_TYPE, or a FORM_TYPE with two values).
 */
export function verificationInput(query: Element): string | undefined {
  // Steps 2-3: identities sorted by category, then type, then xml:lang (then name, harmless).
  const identities: string[][] = [];
  const seenIdentities = new Set<string>();
  for (const i of query.getChildren('identity', NS.DISCO_INFO)) {
    const parts = [i.attr('category') ?? '', i.attr('type') ?? '', i.attr('xml:lang') ?? '', i.attr('name') ?? ''];
    const k = parts.join('/');
    if (seenIdentities.has(k)) return undefined;
    seenIdentities.add(k);
    identities.push(parts);
  }
  identities.sort(compareFields);
  // Steps 4-5: features.
  const features: string[] = [];
  for (const f of query.getChildren('feature', NS.DISCO_INFO)) {
    const v = f.attr('var') ?? '';
    if (features.includes(v)) return undefined;
    features.push(v);
  }
  features.sort(octetCompare);
  // Steps 6-7: XEP-0128 forms with a hidden FORM_TYPE, sorted by it; others are ignored (§5.4 3.6).
  const forms: { type: string; fields: { var: string; values: string[] }[] }[] = [];
  for (const x of query.getChildren('x', NS.DATA_FORMS)) {
    const fields = x.getChildren('field', NS.DATA_FORMS);
    const ft = fields.find((f) => f.attr('var') === 'FORM_TYPE');
    if (!ft) continue;
    const values = [...new Set(fieldValues(ft))];
    if (values.length > 1) return undefined;
    if (ft.attr('type') !== 'hidden') continue;
    const type = values[0] ?? '';
    if (forms.some((f) => f.type === type)) return undefined;
    forms.push({
      type,
      fields: fields.filter((f) => f !== ft).map((f) => ({ var: f.attr('var') ?? '', values: fieldValues(f).sort(octetCompare) }))
        .sort((a, b) => octetCompare(a.var, b.var)),
    });
  }
  forms.sort((a, b) => octetCompare(a.type, b.type));

  let s = '';
  for (const i of identities) s += i.join('/') + '<';
  for (const f of features) s += f + '<';
  for (const form of forms) {
    s += form.type + '<';
    for (const f of form.fields) { s += f.var + '<'; for (const v of f.values) s += v + '<'; }
  }
  return s;
}

/** The verification string (§5.1 steps 8-9) of a disco#info <query/>; undefined when ill-formed or the hash is unknown. */
export function verificationString(query: Element, hash = 'sha-1'): string | undefined {
  const alg = CAPS_HASHES[hash];
  if (!alg) return undefined;
  const s = verificationInput(query);
  return s === undefined ? undefined : createHash(alg).update(s, 'utf8').digest('base64');
}
