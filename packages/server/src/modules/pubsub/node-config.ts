// Node configuration (XEP-0060 1.26 §8.2, the pubsub#node_config FORM_TYPE of §16.4.4) and
// publish-options preconditions (§7.1.5). The access models are open, presence, roster,
// authorize and whitelist (§4.5); a service may offer fewer (PEP refuses 'authorize': its owner
// would have to approve requests through messages to and from its own bare JID, see engine.ts).
// max_items accepts a number or 'max' (§16.4.4 since 1.15), capped by the service's own limit.

import { StanzaError } from '@magpie/core/protocol/errors';
import { xml } from '@magpie/core/xml/element';
import { parseBoolean, writeForm, type FormField } from './forms.js';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_CONFIG = `${NS_PUBSUB}#node_config`;
export const NS_PUBLISH_OPTIONS = `${NS_PUBSUB}#publish-options`;
export const NS_ERRORS = `${NS_PUBSUB}#errors`;

export const ACCESS_MODELS = ['open', 'presence', 'roster', 'authorize', 'whitelist'] as const;
export type AccessModel = typeof ACCESS_MODELS[number];
export const PUBLISH_MODELS = ['publishers', 'subscribers', 'open'] as const;
export type PublishModel = typeof PUBLISH_MODELS[number];
const SEND_LAST = ['never', 'on_sub', 'on_sub_and_presence'] as const;

export interface NodeConfig {
  title: string;
  description: string;
  /** A number of items, or 'max' (the service's limit). */
  max_items: number | 'max';
  persist_items: boolean;
  access_model: AccessModel;
  roster_groups_allowed: string[];
  publish_model: PublishModel;
  notification_type: 'normal' | 'headline';
  send_last_published_item: typeof SEND_LAST[number];
  deliver_payloads: boolean;
  deliver_notifications: boolean;
  notify_retract: boolean;
  notify_delete: boolean;
  notify_config: boolean;
  presence_based_delivery: boolean;
  type: string;
}

/** A new node's configuration: `c` the service's options (pep or service), `pep` for PEP nodes.
    Exported for the XEP-0227 import, which creates PEP nodes as this module would. */
export function defaultNodeConfig(c: { defaultMaxItems: number; defaultAccessModel: AccessModel }, pep: boolean): NodeConfig {
  return {
    title: '', description: '', max_items: c.defaultMaxItems, persist_items: true, access_model: c.defaultAccessModel,
    roster_groups_allowed: [], publish_model: 'publishers', notification_type: 'headline',
    send_last_published_item: pep ? 'on_sub_and_presence' : 'on_sub', deliver_payloads: true, deliver_notifications: true,
    notify_retract: true, notify_delete: true, notify_config: false, presence_based_delivery: false, type: '',
  };
}

/** One error with a pubsub#errors application condition (§7, §8 error tables). */
export function pubsubError(condition: ConstructorParameters<typeof StanzaError>[0], app?: string, text?: string, feature?: string): StanzaError {
  return new StanzaError(condition, text, undefined, app ? xml(app, NS_ERRORS, { feature }) : undefined);
}

export const unsupported = (feature: string): StanzaError => pubsubError('feature-not-implemented', 'unsupported', undefined, feature);

type Setter = (c: NodeConfig, v: string[]) => void;
const one = (v: string[]): string => v[0] ?? '';
const bool = (name: string) => (v: string[]): boolean => {
  const b = parseBoolean(one(v));
  if (b === undefined) throw new StanzaError('not-acceptable', `${name} must be a boolean`);
  return b;
};
const choice = <T extends string>(name: string, allowed: readonly T[], v: string[]): T => {
  const s = one(v);
  if (!(allowed as readonly string[]).includes(s)) throw new StanzaError('not-acceptable', `${name} must be one of ${allowed.join(', ')}`);
  return s as T;
};

const SETTERS: Record<string, Setter> = {
  'pubsub#title': (c, v) => { c.title = one(v); },
  'pubsub#description': (c, v) => { c.description = one(v); },
  'pubsub#max_items': (c, v) => {
    const s = one(v).trim();
    if (s === 'max') { c.max_items = 'max'; return; }
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new StanzaError('not-acceptable', 'pubsub#max_items must be a positive integer or "max"');
    c.max_items = n;
  },
  'pubsub#persist_items': (c, v) => { c.persist_items = bool('pubsub#persist_items')(v); },
  'pubsub#access_model': (c, v) => { c.access_model = choice('pubsub#access_model', ACCESS_MODELS, v); },
  'pubsub#roster_groups_allowed': (c, v) => { c.roster_groups_allowed = v.filter((g) => g !== ''); },
  'pubsub#publish_model': (c, v) => { c.publish_model = choice('pubsub#publish_model', PUBLISH_MODELS, v); },
  'pubsub#notification_type': (c, v) => { c.notification_type = choice('pubsub#notification_type', ['normal', 'headline'] as const, v); },
  'pubsub#send_last_published_item': (c, v) => { c.send_last_published_item = choice('pubsub#send_last_published_item', SEND_LAST, v); },
  'pubsub#deliver_payloads': (c, v) => { c.deliver_payloads = bool('pubsub#deliver_payloads')(v); },
  'pubsub#deliver_notifications': (c, v) => { c.deliver_notifications = bool('pubsub#deliver_notifications')(v); },
  'pubsub#notify_retract': (c, v) => { c.notify_retract = bool('pubsub#notify_retract')(v); },
  'pubsub#notify_delete': (c, v) => { c.notify_delete = bool('pubsub#notify_delete')(v); },
  'pubsub#notify_config': (c, v) => { c.notify_config = bool('pubsub#notify_config')(v); },
  'pubsub#presence_based_delivery': (c, v) => { c.presence_based_delivery = bool('pubsub#presence_based_delivery')(v); },
  'pubsub#type': (c, v) => { c.type = one(v); },
};

/** A copy of `base` with the submitted fields applied; unknown fields are refused. */
export function applyConfig(base: NodeConfig, fields: Map<string, string[]>): NodeConfig {
  const c: NodeConfig = { ...base, roster_groups_allowed: [...base.roster_groups_allowed] };
  for (const [name, values] of fields) {
    const set = SETTERS[name];
    if (!set) throw new StanzaError('not-acceptable', `unknown node configuration field ${name}`);
    set(c, values);
  }
  return c;
}

/** The stored value of a field, as the form shows it. */
function valuesOf(c: NodeConfig, name: string): string[] {
  const key = name.slice('pubsub#'.length) as keyof NodeConfig;
  const v = c[key];
  if (Array.isArray(v)) return v;
  if (typeof v === 'boolean') return [v ? '1' : '0'];
  return [String(v)];
}

/**
 * §7.1.5: each publish-option must equal the node's configuration, else the publish fails with
 * <conflict/> and <precondition-not-met/>. An option the service does not know cannot be met.
 */
export function checkPreconditions(c: NodeConfig, fields: Map<string, string[]>): void {
  for (const [name, values] of fields) {
    const set = SETTERS[name];
    const fail = pubsubError('conflict', 'precondition-not-met', `the node's ${name} differs from the publish-options`);
    if (!set) throw fail;
    let wanted: NodeConfig;
    try { wanted = applyConfig(c, new Map([[name, values]])); } catch { throw fail; }
    if (valuesOf(wanted, name).join('\n') !== valuesOf(c, name).join('\n')) throw fail;
  }
}

/** The form of `c`; `accessModels`: those the service offers. */
export function configForm(c: NodeConfig, type: 'form' | 'result' = 'form', accessModels: readonly AccessModel[] = ACCESS_MODELS): ReturnType<typeof writeForm> {
  const f = (v: string, t: FormField['type'], label: string, options?: string[]): FormField => {
    const field: FormField = { var: v, type: t, label, values: valuesOf(c, v) };
    if (options) field.options = options;
    return field;
  };
  return writeForm(type, NS_CONFIG, [
    f('pubsub#title', 'text-single', 'A friendly name for the node'),
    f('pubsub#description', 'text-single', 'A description of the node'),
    f('pubsub#max_items', 'text-single', 'Max # of items to persist, or "max"'),
    f('pubsub#persist_items', 'boolean', 'Persist items to storage'),
    f('pubsub#access_model', 'list-single', 'Who may subscribe and retrieve items', [...accessModels]),
    f('pubsub#roster_groups_allowed', 'list-multi', 'Roster groups allowed to subscribe'),
    f('pubsub#publish_model', 'list-single', 'Who may publish', [...PUBLISH_MODELS]),
    f('pubsub#notification_type', 'list-single', 'Message type of notifications', ['normal', 'headline']),
    f('pubsub#send_last_published_item', 'list-single', 'When to send the last published item', [...SEND_LAST]),
    f('pubsub#deliver_payloads', 'boolean', 'Deliver payloads with event notifications'),
    f('pubsub#deliver_notifications', 'boolean', 'Deliver event notifications'),
    f('pubsub#notify_retract', 'boolean', 'Notify subscribers when items are removed'),
    f('pubsub#notify_delete', 'boolean', 'Notify subscribers when the node is deleted'),
    f('pubsub#notify_config', 'boolean', 'Notify subscribers when the configuration changes'),
    f('pubsub#presence_based_delivery', 'boolean', 'Deliver notifications only to available users'),
    f('pubsub#type', 'text-single', 'The type of node data (payload namespace)'),
  ]);
}
