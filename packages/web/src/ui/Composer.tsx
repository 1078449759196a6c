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
          onClick={() => fileInput.current?.click()}>{uploading ? '…' : '📎'}</button>
        <label class="sr" for="composer-text">{label}</label>
        <input id="composer-text" type="text" autoComplete="off" placeholder={disabled ? 'Unblock to write' : 'Write a message'} value={text} disabled={disabled}
          onInput={(e) => { const v = (e.target as HTMLInputElement).value; setText(v); typing.current?.input(v); }} />
        <button type="submit" disabled={disabled || !text.trim()}>Send</button>
      </div>
    </form>
  );
}
