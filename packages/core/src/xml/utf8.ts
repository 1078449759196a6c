// UTF-8 byte counting for the stream parser's limits (RFC 6120 §13.12), without importing node:
// modules so that the parser runs unchanged in browsers (the client library bundles it). On Node
// the native Buffer.byteLength is used; elsewhere a pure JS count of the same result (an unpaired
// surrogate counts 3 bytes, as the U+FFFD it would be encoded as).

type ByteLength = (s: string) => number;
const nodeBuffer = (globalThis as { Buffer?: { byteLength(s: string, enc: 'utf8'): number } }).Buffer;

function jsByteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) { n += 1; continue; }
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xDC00 && d <= 0xDFFF) { n += 2; i++; continue; } // 2 code units, 4 bytes
    }
    n += 2;
  }
  return n;
}

export const utf8ByteLength: ByteLength = nodeBuffer ? (s) => nodeBuffer.byteLength(s, 'utf8') : jsByteLength;
export { jsByteLength as utf8ByteLengthJs };
