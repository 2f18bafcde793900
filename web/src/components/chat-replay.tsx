// A recording's chat, replayed beside it: the messages sent up to the moment the player shows, as they appeared live
// (rendered as text). The moment is the broadcast's start plus the time elapsed in the recording by its playlist's
// EXT-X-PROGRAM-DATE-TIME (so pauses the recording cut out do not shift the chat), or plus the playback position where
// that is unknown. Measured from the broadcast's start, not from the first segment's program-date-time: FFmpeg stamps
// that when it has probed its input, a second or more after the first frame, which would show messages early.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ReplayMessage } from '../api.ts';

const SHOWN = 150;

export function ChatReplay({ vodId, startedAt, at }: { vodId: string; startedAt: string; at: { elapsedMs: number | null; seconds: number } }) {
  const [messages, setMessages] = useState<ReplayMessage[] | null>(null);
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    api.vodChat(vodId, ctl.signal).then((r) => setMessages(r.items), () => !ctl.signal.aborted && setMessages([]));
    return () => ctl.abort();
  }, [vodId]);

  const now = Date.parse(startedAt) + (at.elapsedMs ?? at.seconds * 1000);
  const upTo = messages ? countUpTo(messages, now) : 0;
  const shown = messages ? messages.slice(Math.max(0, upTo - SHOWN), upTo) : [];

  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [upTo]);

  return (
    <aside class="chat panel" aria-label="Chat replay" data-testid="chat-replay">
      <header class="chat-head">
        <h2>Chat replay</h2>
        {messages && <span class="muted small">{messages.length} messages</span>}
      </header>
      <ol class="chat-list" ref={listRef}>
        {shown.map((m) => (
          <li key={m.id} class="chat-message" data-testid="replay-message">
            <strong class="chat-author">{m.author.name}</strong> <span class="chat-text">{m.text}</span>
          </li>
        ))}
      </ol>
      {messages && messages.length === 0 && <p class="muted small">No chat during this broadcast.</p>}
    </aside>
  );
}

/** How many messages (sorted by time) were sent at or before `now`: a binary search, as this runs on every tick. */
function countUpTo(messages: ReplayMessage[], now: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Date.parse(messages[mid]!.sentAt) <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
