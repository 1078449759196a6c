// The server's version, reported by XEP-0092 and `magpie --version`.
export const MAGPIE_VERSION = '0.1.0';
