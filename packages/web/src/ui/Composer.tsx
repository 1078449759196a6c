// The message box: text (Enter sends), an image upload button (XEP-0363 through the session),
// and optional typing notifications (XEP-0085, one-to-one chats only).

import { useEffect, useRef, useState } from 'preact/hooks';
import { TypingNotifier, type OutState } from '../typing.js';

interface Props {
  label: string;
  disabled?: boolean;
  onSend: (text: string) => void;
  onFile: (file: File) => Promise<void>;
  onChatState?: (state: OutState) => void;
}

// A paperclip drawn inline: emoji fonts are missing on many systems.
const Clip = () => (
  <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
    <path d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.5 3.5 0 0 1 5 5L10.5 18a2 2 0 0 1-3-3L15 7.5" />
  </svg>
);

export function Composer({ label, disabled, onSend, onFile, onChatState }: Props) {
  const [text, setText] = useState('');
  const [uploading, setUploading] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const typing = useRef<TypingNotifier | undefined>();
  const fileInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!onChatState) return undefined;
    const t = new TypingNotifier({ send: onChatState });
    typing.current = t;
    return () => { if (t.current !== 'active') onChatState('active'); t.dispose(); };
  }, []);

  const submit = (e: Event): void => {
    e.preventDefault();
    const body = text.trim();
    if (!body || disabled) return;
    onSend(body);
    typing.current?.sent();
    setText('');
  };
  const pick = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setUploading(true);
    setProblem(undefined);
    onFile(file).catch((err: Error) => setProblem(`Upload failed: ${err.message}`)).finally(() => setUploading(false));
  };
  return (
    <form class="composer" onSubmit={submit}>
      {problem ? <p class="error" role="alert">{problem}</p> : null}
      <div class="row">
        <input ref={fileInput} id="composer-file" class="sr" type="file" accept="image/*" onChange={pick} disabled={disabled || uploading} />
        <button type="button" class="secondary" aria-label="Send an image" title="Send an image" disabled={disabled || uploading}
          onClick={() => fileInput.current?.click()}>{uploading ? '…' : <Clip />}</button>
        <label class="sr" for="composer-text">{label}</label>
        <input id="composer-text" type="text" autoComplete="off" placeholder={disabled ? 'Unblock to write' : 'Write a message'} value={text} disabled={disabled}
          onInput={(e) => { const v = (e.target as HTMLInputElement).value; setText(v); typing.current?.input(v); }} />
        <button type="submit" disabled={disabled || !text.trim()}>Send</button>
      </div>
    </form>
  );
}
