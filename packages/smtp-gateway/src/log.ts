// A small leveled logger writing JSON lines to stderr. Secrets are never passed to it: the
// gateway logs addresses and outcomes, never the component secret or relay credentials.

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'silent';
const ORDER: Record<Level, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface Log {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export function createLog(level: Level, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Log {
  const at = (l: Exclude<Level, 'silent'>) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[l] <= ORDER[level]) write(JSON.stringify({ time: new Date().toISOString(), level: l, name: 'magpie-smtp-gateway', msg, ...fields }));
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
