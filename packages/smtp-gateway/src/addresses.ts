// The address mapping between e-mail and XMPP. An e-mail address user@host is written as the
// JID `user%host@<component domain>` (the '%' convention of mail gateways, RFC 1123 §5.2.16's
// "percent hack", since a JID localpart cannot hold '@'); characters a localpart forbids are
// escaped as XEP-0106 §4 says (e.g. john's → john\27s), and an escaped '@' (\40) is read as the
// separator too. An XMPP user a@b is given the mail address `a%b@<mail domain>`, so replies come
// back through the gateway. Fixed pairs from the configuration take precedence both ways.

/** XEP-0106 §4.2 escaping table. */
const ESCAPES: Record<string, string> = { ' ': '\\20', '"': '\\22', '&': '\\26', "'": '\\27', '/': '\\2f', ':': '\\3a', '<': '\\3c', '>': '\\3e', '@': '\\40', '\\': '\\5c' };
const UNESCAPES = new Map(Object.entries(ESCAPES).map(([c, e]) => [e, c]));

/** Escape a localpart (XEP-0106 §4.3): a backslash is escaped only where it starts an escape sequence. */
export function escapeLocal(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') out += UNESCAPES.has(s.slice(i, i + 3).toLowerCase()) ? '\\5c' : '\\';
    else out += ESCAPES[c] ?? c;
  }
  return out;
}

/** Unescape a localpart (XEP-0106 §4.4): only the ten defined sequences are turned back. */
export function unescapeLocal(s: string): string {
  return s.replace(/\\(20|22|26|27|2f|3a|3c|3e|40|5c)/gi, (m) => UNESCAPES.get(m.toLowerCase()) ?? m);
}

export interface AddressBook {
  /** The component's domain (JIDs standing for e-mail addresses live here). */
  componentDomain: string;
  /** The domain of the gateway's own e-mail addresses. */
  mailDomain: string;
  /** XMPP domains the gateway serves (may send mail, may receive mail). */
  xmppDomains: readonly string[];
  fixed: readonly { email: string; jid: string }[];
}

// RFC 5322 dot-atom text for the local part (no quoted strings: a gateway address need not
// carry every exotic form), and a host name or address literal-free domain.
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\u0080-\uFFFF-]{1,64}$/;
const EMAIL_DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9\u0080-\uFFFF](?:[A-Za-z0-9\u0080-\uFFFF-]*[A-Za-z0-9\u0080-\uFFFF])?(?:\.[A-Za-z0-9\u0080-\uFFFF](?:[A-Za-z0-9\u0080-\uFFFF-]*[A-Za-z0-9\u0080-\uFFFF])?)*$/;
// RFC 7622 §3.3.1 forbids these in a localpart.
const JID_LOCAL_FORBIDDEN = /["&'/:<>@\s]/;

function splitEmail(email: string): { local: string; domain: string } | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return undefined;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1).toLowerCase();
  if (!EMAIL_LOCAL.test(local) || !EMAIL_DOMAIN.test(domain)) return undefined;
  return { local, domain };
}

/** A plausible e-mail address in canonical form (domain lower-cased), or undefined. */
export function normaliseEmail(email: string): string | undefined {
  const p = splitEmail(email.trim());
  return p ? `${p.local}@${p.domain}` : undefined;
}

/** XMPP → mail: the e-mail address a JID localpart at the component stands for. */
export function emailForLocal(local: string): string | undefined {
  const u = unescapeLocal(local);
  const sep = u.includes('@') ? u.lastIndexOf('@') : u.lastIndexOf('%');
  if (sep <= 0) return undefined;
  return normaliseEmail(`${u.slice(0, sep)}@${u.slice(sep + 1)}`);
}

/** Mail → XMPP: the JID (at the component) that stands for an outside e-mail address. */
export function jidForEmail(email: string, book: AddressBook): string | undefined {
  const p = splitEmail(email.trim());
  if (!p) return undefined;
  return `${escapeLocal(`${p.local}%${p.domain}`)}@${book.componentDomain}`;
}

/** XMPP → mail: the From address of a local XMPP user (bare JID), or undefined when the gateway does not serve that user. */
export function emailForUser(bareJid: string, book: AddressBook): string | undefined {
  const fixed = book.fixed.find((f) => f.jid.toLowerCase() === bareJid.toLowerCase());
  if (fixed) return fixed.email;
  const at = bareJid.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = bareJid.slice(0, at);
  const domain = bareJid.slice(at + 1).toLowerCase();
  if (!book.xmppDomains.includes(domain)) return undefined;
  return normaliseEmail(`${local}%${domain}@${book.mailDomain}`);
}

/** Mail → XMPP: the local XMPP user (bare JID) an address at the mail domain reaches, or undefined (550 at RCPT). */
export function userForRecipient(email: string, book: AddressBook): string | undefined {
  const p = splitEmail(email.trim());
  if (!p || p.domain !== book.mailDomain) return undefined;
  const fixed = book.fixed.find((f) => f.email.toLowerCase() === `${p.local}@${p.domain}`.toLowerCase());
  if (fixed) return fixed.jid;
  const sep = p.local.lastIndexOf('%');
  if (sep <= 0) return undefined;
  const local = p.local.slice(0, sep);
  const domain = p.local.slice(sep + 1).toLowerCase();
  if (JID_LOCAL_FORBIDDEN.test(local) || !book.xmppDomains.includes(domain)) return undefined;
  return `${local.toLowerCase()}@${domain}`;
}
