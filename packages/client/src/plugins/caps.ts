// Entity Capabilities (XEP-0115 v1.6 §5): the verification string of our own disco#info —
// identities sorted by category/type/lang/name, features sorted, extended forms sorted by
// FORM_TYPE, each followed by '<', hashed with SHA-1 and base64-encoded. SHA-1 comes from
// WebCrypto (core's SaslCrypto), so this runs in browsers too.

import { webCrypto } from '@magpie/core/sasl/crypto';
import { toBase64, utf8 } from '@magpie/core/sasl/encoding';

export interface Identity { category: string; type: string; name?: string; lang?: string }
export interface ExtendedForm { formType: string; fields: { var: string; values: string[] }[] }

// XEP-0115 §5.1 sorts by octet order ("i;octet" collation), not by locale.
const octet = (a: string, b: string): number => {
  const x = utf8(a), y = utf8(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

export function capsString(identities: Identity[], features: string[], forms: ExtendedForm[] = []): string {
  let s = '';
  const ids = identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`).sort(octet);
  for (const i of ids) s += i + '<';
  for (const f of [...features].sort(octet)) s += f + '<';
  for (const form of [...forms].sort((a, b) => octet(a.formType, b.formType))) {
    s += form.formType + '<';
    for (const f of [...form.fields].filter((x) => x.var !== 'FORM_TYPE').sort((a, b) => octet(a.var, b.var))) {
      s += f.var + '<';
      for (const v of [...f.values].sort(octet)) s += v + '<';
    }
  }
  return s;
}

export async function capsHash(identities: Identity[], features: string[], forms: ExtendedForm[] = []): Promise<string> {
  return toBase64(await webCrypto.digest('SHA-1', utf8(capsString(identities, features, forms))));
}
