// Entity Time (XEP-0202): the server's UTC time and its offset from UTC.
import { xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { defineModule } from '../module.js';

export function tzo(date: Date): string {
  const off = -date.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** XEP-0082 DateTime in UTC without fractional seconds' trailing noise. */
export function xmppDateTime(d: Date): string { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }

export default defineModule({
  manifest: {
    name: 'time',
    description: 'Answers entity time queries addressed to the server',
    specs: [{ spec: 'XEP-0202', version: '2.0', status: 'complete' }],
    defaultEnabled: true,
  },
  setup(api) {
    api.discoFeature(NS.TIME);
    api.iq({ type: 'get', scope: 'host', xmlns: NS.TIME, name: 'time' }, () => {
      const now = new Date();
      return xml('time', NS.TIME, {}, xml('tzo', NS.TIME, {}, tzo(now)), xml('utc', NS.TIME, {}, xmppDateTime(now)));
    });
  },
});
