// XEP-0288 (Bidirectional Server-to-Server Connections) names. A receiving server advertises
// the feature; an initiating server that wants it sends <bidi/> before authenticating; then the
// receiving server may send stanzas back on the same connection for the pairs authenticated on
// it (the inverse of each authenticated pair), and the initiating server accepts them from the
// domain it connected to.
export const NS_BIDI = 'urn:xmpp:bidi';
export const NS_BIDI_FEATURE = 'urn:xmpp:features:bidi';
