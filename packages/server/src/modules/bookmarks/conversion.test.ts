// XEP-0402 ↔ XEP-0048 bookmark conversion.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { fromLegacy, fromNative, sameBookmark, toLegacy, toNative } from './conversion.js';

it('converts both ways and keeps legacy-only children apart', () => {
  const legacy = parseFragment(`<storage xmlns='storage:bookmarks'><conference jid='room@muc.example' name='Room' autojoin='1'><nick>N</nick><password>p</password></conference><conference jid='not a jid@@'/><url name='u' url='https://x/'/></storage>`);
  const { bookmarks, others } = fromLegacy(legacy);
  assert.deepEqual(bookmarks, [{ jid: 'room@muc.example', name: 'Room', autojoin: true, nick: 'N', password: 'p' }]);
  assert.equal(others.length, 1);
  const native = toNative(bookmarks[0]!, parseFragment(`<extensions xmlns='urn:xmpp:bookmarks:1'><x xmlns='urn:e'/></extensions>`));
  const back = fromNative('room@muc.example', native)!;
  assert.ok(sameBookmark(back, bookmarks[0]!));
  assert.ok(native.getChild('extensions')?.getChild('x', 'urn:e'));
  const again = fromLegacy(toLegacy([back], others));
  assert.deepEqual(again.bookmarks, bookmarks);
  assert.equal(again.others[0]!.attr('url'), 'https://x/');
  assert.equal(fromNative('x@y', parseFragment(`<conference xmlns='other'/>`)), undefined);
  assert.equal(fromNative('x@y', parseFragment(`<conference xmlns='urn:xmpp:bookmarks:1'/>`))!.autojoin, false);
});
