// A conversation's lines: links made clickable (http/https only), images from https links and
// attachments shown inline, newest at the bottom and kept in view as lines arrive.

import { useEffect, useRef } from 'preact/hooks';
import type { Line } from '../state.js';
import { inlineImages, splitLinks, timeLabel } from '../text.js';

function Body({ text }: { text: string }) {
  return <>{splitLinks(text).map((s, i) => ('url' in s
    ? <a key={i} href={s.url} target="_blank" rel="noopener noreferrer">{s.url}</a>
    : <span key={i}>{s.text}</span>))}</>;
}

export function MessageList({ lines, label, nameOf }: { lines: Line[]; label: string; nameOf: (l: Line) => string }) {
  const end = useRef<HTMLLIElement>(null);
  const last = lines[lines.length - 1]?.id;
  useEffect(() => { end.current?.scrollIntoView({ block: 'end' }); }, [last]);
  return (
    <ol class="lines" role="log" aria-label={label} aria-live="polite">
      {lines.map((l) => (
        <li key={l.id} class={`line ${l.outgoing ? 'out' : 'in'}${l.kind ? ` ${l.kind}` : ''}`} data-id={l.id}>
          <span class="meta"><span class="author">{nameOf(l)}</span> <time dateTime={new Date(l.stamp).toISOString()}>{timeLabel(l.stamp)}</time></span>
          <span class="body"><Body text={l.body} /></span>
          {inlineImages(l.body, l.oob).map((src) => (
            <a key={src} class="image" href={src} target="_blank" rel="noopener noreferrer">
              <img src={src} alt={`Image from ${nameOf(l)}`} loading="lazy" referrerpolicy="no-referrer" />
            </a>
          ))}
        </li>
      ))}
      <li ref={end} class="end" aria-hidden="true" />
    </ol>
  );
}
