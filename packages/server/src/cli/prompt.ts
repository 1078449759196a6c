// Reads a password without echoing it on a terminal; from a pipe, reads one line.
import { createInterface } from 'node:readline';

export async function readPassword(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const rl = createInterface({ input });
    for await (const line of rl) { rl.close(); return line; }
    return '';
  }
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let pw = '';
    const onData = (ch: string): void => {
      for (const c of ch) {
        if (c === '\r' || c === '\n') { done(); return resolve(pw); }
        if (c === '\u0003') { done(); return reject(new Error('interrupted')); }
        if (c === '\u007f' || c === '\b') pw = pw.slice(0, -1); else pw += c;
      }
    };
    const done = (): void => { input.setRawMode(false); input.pause(); input.removeListener('data', onData); process.stderr.write('\n'); };
    input.on('data', onData);
  });
}
