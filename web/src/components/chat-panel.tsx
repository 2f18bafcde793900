// The chat beside the live player: Socket.IO on the page's own origin (the session cookie goes with it). Messages are
// rendered as text (never as HTML) and links are not embedded; the list follows new messages unless the pointer is
// over it; moderators get a menu per message; the active chat modes show above the input.
import { useEffect, useRef, useState } from 'preact/hooks';
import { io, type Socket } from 'socket.io-client';
import type { User } from '../api.ts';

type Message = { id: string; author: { id: string; name: string }; text: string; sentAt: string };
type Modes = { slowSeconds: number; minAccountAgeMinutes: number; followersOnlyMinutes: number | null; subscribersOnly: boolean };
type Rank = 'viewer' | 'moderator' | 'owner' | 'admin';
type Refusal = { code: string; message: string; retryAfterMs?: number };
type Reply<T> = ({ ok: true } & T) | { ok: false; error: Refusal };

const MAX_CHARS = 500;
const KEEP = 200; // messages kept on screen

export function ChatPanel({ slug, user }: { slug: string; user: User | null }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [modes, setModes] = useState<Modes>({ slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false });
  const [you, setYou] = useState<Rank | null>(null);
  const [status, setStatus] = useState<'connecting' | 'ready' | 'offline'>('connecting');
  const [notice, setNotice] = useState('');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const socketRef = useRef<Socket | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const hovering = useRef(false);

  useEffect(() => {
    const socket = io({ path: '/socket.io', transports: ['websocket', 'polling'] });
    socketRef.current = socket;
    const join = () =>
      socket.timeout(10_000).emitWithAck('join', { channel: slug }).then((r: Reply<{ you: Rank | null; modes: Modes; history: Message[] }>) => {
        if (!r.ok) return setNotice(r.error.message);
        setMessages(r.history);
        setModes(r.modes);
        setYou(r.you);
        setStatus('ready');
      }, () => setStatus('offline'));
    socket.on('connect', join); // again after every reconnect: the history fills any gap
    socket.on('disconnect', () => setStatus('offline'));
    socket.on('messages', (batch: (Message & { channel: string })[]) => {
      const mine = batch.filter((m) => m.channel === slug);
      if (mine.length) setMessages((list) => [...list, ...mine].slice(-KEEP));
    });
    socket.on('deleted', (d: { channel: string; id: string }) => d.channel === slug && setMessages((list) => list.filter((m) => m.id !== d.id)));
    socket.on('modes', (m: Modes & { channel: string }) => m.channel === slug && setModes({ slowSeconds: m.slowSeconds, minAccountAgeMinutes: m.minAccountAgeMinutes, followersOnlyMinutes: m.followersOnlyMinutes, subscribersOnly: m.subscribersOnly }));
    socket.on('moderation', (e: { channel: string; action: string; userId: string }) => {
      if (e.channel !== slug || e.userId !== user?.id) return;
      if (e.action === 'mod') setYou('moderator');
      if (e.action === 'unmod') setYou('viewer');
      if (e.action === 'timeout') setNotice('A moderator timed you out.');
      if (e.action === 'ban') setNotice('A moderator banned you from this chat.');
      if (e.action === 'unban') setNotice('');
    });
    return () => {
      socket.disconnect();
      socketRef.current = null;
    };
  }, [slug, user?.id]);

  // follow new messages, unless the reader is looking at older ones
  useEffect(() => {
    const list = listRef.current;
    if (list && !hovering.current) list.scrollTop = list.scrollHeight;
  }, [messages]);

  async function send(e: Event) {
    e.preventDefault();
    const socket = socketRef.current;
    const body = text.trim();
    if (!socket || !body) return;
    setSending(true);
    try {
      const r: Reply<{ message: Message }> = await socket.timeout(10_000).emitWithAck('send', { channel: slug, text: body });
      if (r.ok) {
        setText('');
        setNotice('');
      } else {
        const wait = r.error.retryAfterMs ? ` (try again in ${Math.ceil(r.error.retryAfterMs / 1000)} s)` : '';
        setNotice(r.error.message + wait);
      }
    } catch {
      setNotice('The message could not be sent; check your connection.');
    } finally {
      setSending(false);
    }
  }

  async function moderate(event: 'delete' | 'timeout' | 'ban', m: Message) {
    const payload = event === 'delete' ? { channel: slug, id: m.id } : { channel: slug, userId: m.author.id, ...(event === 'timeout' ? { seconds: 600 } : {}) };
    const r: Reply<object> | undefined = await socketRef.current?.timeout(10_000).emitWithAck(event, payload).catch(() => undefined);
    if (r && !r.ok) setNotice(r.error.message);
  }

  async function setMode(patch: Partial<Modes>) {
    const r: Reply<{ modes: Modes }> | undefined = await socketRef.current?.timeout(10_000).emitWithAck('modes', { channel: slug, ...patch }).catch(() => undefined);
    if (r && !r.ok) setNotice(r.error.message);
  }

  const canModerate = you === 'moderator' || you === 'owner' || you === 'admin';
  return (
    <aside class="chat panel" aria-label="Chat" data-testid="chat">
      <header class="chat-head">
        <h2>Chat</h2>
        {status !== 'ready' && <span class="muted small">{status === 'connecting' ? 'connecting…' : 'reconnecting…'}</span>}
        {canModerate && (
          <details class="chat-settings">
            <summary data-testid="chat-settings">Modes</summary>
            <div class="chat-menu-items">
              <label class="check">
                <input type="checkbox" checked={modes.slowSeconds > 0} onChange={(e) => void setMode({ slowSeconds: e.currentTarget.checked ? 30 : 0 })} data-testid="mode-slow" /> Slow mode (30 s)
              </label>
              <label class="check">
                <input type="checkbox" checked={modes.followersOnlyMinutes !== null} onChange={(e) => void setMode({ followersOnlyMinutes: e.currentTarget.checked ? 0 : null })} data-testid="mode-followers" /> Followers only
              </label>
              <label class="check">
                <input type="checkbox" checked={modes.subscribersOnly} onChange={(e) => void setMode({ subscribersOnly: e.currentTarget.checked })} data-testid="mode-subscribers" /> Subscribers only
              </label>
              <label class="check">
                <input type="checkbox" checked={modes.minAccountAgeMinutes > 0} onChange={(e) => void setMode({ minAccountAgeMinutes: e.currentTarget.checked ? 10 : 0 })} data-testid="mode-account-age" /> Accounts older than 10 min
              </label>
            </div>
          </details>
        )}
      </header>
      <ol
        class="chat-list"
        ref={listRef}
        data-testid="chat-list"
        onMouseEnter={() => (hovering.current = true)}
        onMouseLeave={() => (hovering.current = false)}
      >
        {messages.map((m) => (
          <li key={m.id} class="chat-message" data-testid="chat-message" data-id={m.id}>
            <strong class="chat-author">{m.author.name}</strong> <span class="chat-text">{m.text}</span>
            {canModerate && m.author.id !== user?.id && (
              <details class="chat-menu">
                <summary aria-label={`Moderate ${m.author.name}'s message`}>⋯</summary>
                <div class="chat-menu-items">
                  <button type="button" class="btn btn-sm btn-secondary" data-testid="chat-delete" onClick={() => void moderate('delete', m)}>
                    Delete
                  </button>
                  <button type="button" class="btn btn-sm btn-secondary" onClick={() => void moderate('timeout', m)}>
                    Time out 10 min
                  </button>
                  <button type="button" class="btn btn-sm btn-secondary" onClick={() => void moderate('ban', m)}>
                    Ban
                  </button>
                </div>
              </details>
            )}
          </li>
        ))}
      </ol>
      {(modes.slowSeconds > 0 || modes.minAccountAgeMinutes > 0 || modes.followersOnlyMinutes !== null || modes.subscribersOnly) && (
        <p class="chat-modes muted small" data-testid="chat-modes">
          {modes.slowSeconds > 0 && <span>Slow mode: {modes.slowSeconds} s</span>}
          {modes.minAccountAgeMinutes > 0 && <span>Accounts older than {modes.minAccountAgeMinutes} min</span>}
          {modes.followersOnlyMinutes !== null && <span>Followers only{modes.followersOnlyMinutes > 0 ? ` (${modes.followersOnlyMinutes} min)` : ''}</span>}
          {modes.subscribersOnly && <span>Subscribers only</span>}
        </p>
      )}
      {notice && (
        <p class="chat-notice error small" role="alert" data-testid="chat-notice">
          {notice}
        </p>
      )}
      {user ? (
        <form class="chat-form" onSubmit={send}>
          <input
            data-testid="chat-input"
            aria-label="Send a message"
            placeholder="Send a message"
            maxLength={MAX_CHARS}
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
          <button class="btn btn-primary btn-sm" type="submit" disabled={sending || !text.trim()} data-testid="chat-send">
            Chat
          </button>
        </form>
      ) : (
        <p class="muted small">
          <a href="/sign-in">Sign in</a> to chat.
        </p>
      )}
    </aside>
  );
}
