// The chat beside the live player: Socket.IO on the page's own origin (the session cookie goes with it). Messages are
// rendered as text (never as HTML) and links are not embedded; the list follows new messages unless the pointer is
// over it; moderators get a menu per message; the active chat modes show above the input.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api.ts';
import { holdSocket, type PageSocket } from '../socket.ts';
import { MAX_MESSAGE_CHARS } from '../../../shared/bounds.ts';
import type { ChatMessage as Message, ChatModes as Modes, ChatRank as Rank, ChatReply as Reply } from '../../../shared/socket-events.ts';

const KEEP = 200; // messages kept on screen

export function ChatPanel({ slug, user }: { slug: string; user: User | null }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [modes, setModes] = useState<Modes>({ slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false });
  const [you, setYou] = useState<Rank | null>(null);
  const [status, setStatus] = useState<'connecting' | 'ready' | 'offline'>('connecting');
  const [notice, setNotice] = useState('');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const socketRef = useRef<PageSocket | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const hovering = useRef(false);

  useEffect(() => {
    // the page's socket, which the notification bell may be using too: this panel joins its channel and leaves it
    const { socket, release } = holdSocket(user?.id ?? null);
    socketRef.current = socket;
    const join = () =>
      socket.timeout(10_000).emitWithAck('join', { channel: slug }).then((r) => {
        if (!r.ok) return setNotice(r.error.message);
        setMessages(r.history);
        setModes(r.modes);
        setYou(r.you);
        setStatus('ready');
      }, () => setStatus('offline'));
    const offline = () => setStatus('offline');
    const onMessages = (batch: Message[]) => {
      const mine = batch.filter((m) => m.channel === slug);
      if (mine.length) setMessages((list) => [...list, ...mine].slice(-KEEP));
    };
    const onDeleted = (d: { channel: string; id: string }) => d.channel === slug && setMessages((list) => list.filter((m) => m.id !== d.id));
    const onModes = (m: Modes & { channel: string }) => m.channel === slug && setModes({ slowSeconds: m.slowSeconds, minAccountAgeMinutes: m.minAccountAgeMinutes, followersOnlyMinutes: m.followersOnlyMinutes, subscribersOnly: m.subscribersOnly });
    const onModeration = (e: { channel: string; action: string; userId: string }) => {
      if (e.channel !== slug || e.userId !== user?.id) return;
      if (e.action === 'mod') setYou('moderator');
      if (e.action === 'unmod') setYou('viewer');
      if (e.action === 'timeout') setNotice('A moderator timed you out.');
      if (e.action === 'ban') setNotice('A moderator banned you from this chat.');
      if (e.action === 'unban') setNotice('');
    };
    socket.on('connect', join); // again after every reconnect: the history fills any gap
    socket.on('disconnect', offline);
    socket.on('messages', onMessages);
    socket.on('deleted', onDeleted);
    socket.on('modes', onModes);
    socket.on('moderation', onModeration);
    if (socket.connected) void join(); // the bell had it open already
    return () => {
      socket.off('connect', join);
      socket.off('disconnect', offline);
      socket.off('messages', onMessages);
      socket.off('deleted', onDeleted);
      socket.off('modes', onModes);
      socket.off('moderation', onModeration);
      // the socket may live on (the bell): out of this channel's room, which closing it used to do
      if (socket.connected) socket.emit('leave', { channel: slug }, () => undefined);
      release();
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
      const r = await socket.timeout(10_000).emitWithAck('send', { channel: slug, text: body });
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
    const socket = socketRef.current?.timeout(10_000);
    const target = { channel: slug, userId: m.author.id };
    const sent: Promise<Reply<object>> | undefined =
      event === 'delete' ? socket?.emitWithAck('delete', { channel: slug, id: m.id }) : event === 'timeout' ? socket?.emitWithAck('timeout', { ...target, seconds: 600 }) : socket?.emitWithAck('ban', target);
    const r = await sent?.catch(() => undefined);
    if (r && !r.ok) setNotice(r.error.message);
  }

  async function setMode(patch: Partial<Modes>) {
    const r = await socketRef.current?.timeout(10_000).emitWithAck('modes', { channel: slug, ...patch }).catch(() => undefined);
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
            maxLength={MAX_MESSAGE_CHARS}
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
