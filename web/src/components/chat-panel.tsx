// The chat beside the live player: Socket.IO on the page's own origin (the session cookie goes with it). Messages are
// rendered as text (never as HTML) with emotes and @mentions (chat/message.tsx) and links are not embedded; the list
// follows new messages unless the pointer is over it; moderators get a menu per message, a line confirming what they
// did with an Undo, and the moderation pane (chat/moderation.tsx); the active chat modes show above the input.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { User } from '../api.ts';
import { holdSocket, type PageSocket } from '../socket.ts';
import { MAX_MESSAGE_CHARS } from '../../../shared/bounds.ts';
import { BUILTIN_EMOTES, type Emote } from '../../../shared/emotes.ts';
import type { ChatMessage as Message, ChatModes as Modes, ChatRank as Rank, ChatReply as Reply } from '../../../shared/socket-events.ts';
import { EmotePicker } from './chat/emote-picker.tsx';
import { MessageHead, MessageText, mentions } from './chat/message.tsx';
import { ModerationPane } from './chat/moderation.tsx';

const KEEP = 200; // messages kept on screen
const TIMEOUT_SECONDS = 600;
const NO_MODES: Modes = { slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false, emoteOnly: false };

/** A line of the list: a message, or a note only this moderator sees (what they did, with its undo). */
type Line = { kind: 'message'; m: Message } | { kind: 'note'; id: string; text: string; undo?: () => Promise<void> };
const lineId = (l: Line) => (l.kind === 'message' ? l.m.id : l.id);

export function ChatPanel({ slug, user }: { slug: string; user: User | null }) {
  const [lines, setLines] = useState<Line[]>([]);
  const [modes, setModes] = useState<Modes>(NO_MODES);
  const [channelEmotes, setChannelEmotes] = useState<Emote[]>([]);
  const [paneOpen, setPaneOpen] = useState(false);
  const [version, setVersion] = useState(0);
  const [you, setYou] = useState<Rank | null>(null);
  const [status, setStatus] = useState<'connecting' | 'ready' | 'offline'>('connecting');
  const [notice, setNotice] = useState('');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const socketRef = useRef<PageSocket | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const hovering = useRef(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const emotes = useMemo(() => new Map([...BUILTIN_EMOTES, ...channelEmotes].map((e) => [e.code, e])), [channelEmotes]);

  useEffect(() => {
    // the page's socket, which the notification bell may be using too: this panel joins its channel and leaves it
    const { socket, release } = holdSocket(user?.id ?? null);
    socketRef.current = socket;
    const join = () =>
      socket.timeout(10_000).emitWithAck('join', { channel: slug }).then((r) => {
        if (!r.ok) return setNotice(r.error.message);
        setLines(r.history.map((m: Message): Line => ({ kind: 'message', m })));
        setModes(r.modes);
        setChannelEmotes(r.emotes);
        setYou(r.you);
        setStatus('ready');
      }, () => setStatus('offline'));
    const offline = () => setStatus('offline');
    const onMessages = (batch: Message[]) => {
      const mine = batch.filter((m) => m.channel === slug);
      if (mine.length) setLines((list) => [...list, ...mine.map((m): Line => ({ kind: 'message', m }))].slice(-KEEP));
    };
    const onDeleted = (d: { channel: string; id: string }) => d.channel === slug && setLines((list) => list.filter((l) => lineId(l) !== d.id));
    const onModes = (m: Modes & { channel: string }) =>
      m.channel === slug && setModes({ slowSeconds: m.slowSeconds, minAccountAgeMinutes: m.minAccountAgeMinutes, followersOnlyMinutes: m.followersOnlyMinutes, subscribersOnly: m.subscribersOnly, emoteOnly: m.emoteOnly });
    const onModeration = (e: { channel: string; action: string; userId: string }) => {
      if (e.channel !== slug) return;
      setVersion((v) => v + 1); // the moderation pane reads its lists again
      if (e.userId !== user?.id) return;
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
  }, [lines]);

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

  const note = (text: string, undo?: () => Promise<void>) => setLines((list) => [...list, { kind: 'note' as const, id: `note-${crypto.randomUUID()}`, text, undo }].slice(-KEEP));

  async function moderate(event: 'delete' | 'timeout' | 'ban', m: Message, from?: HTMLElement) {
    // the message's menu closes once an action is chosen
    const menu = from?.closest('details');
    if (menu) menu.open = false;
    const socket = socketRef.current?.timeout(10_000);
    const target = { channel: slug, userId: m.author.id };
    const sent: Promise<Reply<object>> | undefined =
      event === 'delete' ? socket?.emitWithAck('delete', { channel: slug, id: m.id }) : event === 'timeout' ? socket?.emitWithAck('timeout', { ...target, seconds: TIMEOUT_SECONDS }) : socket?.emitWithAck('ban', target);
    const r = await sent?.catch(() => undefined);
    if (!r) return setNotice('That did not go through; check your connection.');
    if (!r.ok) return setNotice(r.error.message);
    const who = m.author.name;
    if (event === 'delete') return note(`You deleted a message from ${who}.`);
    // a timeout or a ban is undone by lifting it (unban clears both)
    const undo = async () => {
      const u = await socketRef.current?.timeout(10_000).emitWithAck('unban', target).catch(() => undefined);
      if (!u?.ok) return setNotice(u ? u.error.message : 'The undo did not go through; check your connection.');
      note(event === 'timeout' ? `You lifted ${who}'s timeout.` : `You unbanned ${who}.`);
    };
    note(event === 'timeout' ? `You timed out ${who} for ${TIMEOUT_SECONDS / 60} min.` : `You banned ${who}.`, undo);
  }

  function addEmote(code: string) {
    setText((t) => (t && !/\s$/.test(t) ? `${t} ${code} ` : `${t}${code} `).slice(0, MAX_MESSAGE_CHARS));
    inputRef.current?.focus();
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
                <input type="checkbox" checked={modes.emoteOnly} onChange={(e) => void setMode({ emoteOnly: e.currentTarget.checked })} data-testid="mode-emote" /> Emote only
              </label>
              <label class="check">
                <input type="checkbox" checked={modes.minAccountAgeMinutes > 0} onChange={(e) => void setMode({ minAccountAgeMinutes: e.currentTarget.checked ? 10 : 0 })} data-testid="mode-account-age" /> Accounts older than 10 min
              </label>
            </div>
          </details>
        )}
        {canModerate && (
          <button type="button" class="btn btn-sm btn-secondary" aria-expanded={paneOpen} onClick={() => setPaneOpen((o) => !o)} data-testid="moderation-toggle">
            {paneOpen ? 'Back to chat' : 'Moderation'}
          </button>
        )}
      </header>
      {canModerate && paneOpen && <ModerationPane slug={slug} socket={() => socketRef.current} owner={you === 'owner' || you === 'admin'} version={version} emotes={channelEmotes} onEmotes={setChannelEmotes} />}
      <ol
        class="chat-list"
        hidden={paneOpen}
        ref={listRef}
        data-testid="chat-list"
        onMouseEnter={() => (hovering.current = true)}
        onMouseLeave={() => (hovering.current = false)}
      >
        {lines.length === 0 && status === 'ready' && (
          <li class="chat-empty muted" data-testid="chat-empty">
            No messages yet — say hi
          </li>
        )}
        {lines.map((l) =>
          l.kind === 'note' ? (
            <li key={l.id} class="chat-note muted small" data-testid="chat-feedback">
              {l.text}
              {l.undo && (
                <>
                  {' · '}
                  <button type="button" class="link-button" onClick={() => void l.undo?.()} data-testid="chat-undo">
                    Undo
                  </button>
                </>
              )}
            </li>
          ) : (
            <li key={l.m.id} class={`chat-message${mentions(l.m.text, user?.name) && l.m.author.id !== user?.id ? ' mentions-me' : ''}`} data-testid="chat-message" data-id={l.m.id} data-author={l.m.author.id}>
              <MessageHead m={l.m} />
              <MessageText text={l.m.text} emotes={emotes} me={user?.name} />
              {canModerate && l.m.author.id !== user?.id && (
                <details class="chat-menu">
                  <summary aria-label={`Moderate ${l.m.author.name}'s message`}>⋯</summary>
                  <div class="chat-menu-items">
                    <button type="button" class="btn btn-sm btn-secondary" data-testid="chat-delete" onClick={(e) => void moderate('delete', l.m, e.currentTarget)}>
                      Delete
                    </button>
                    <button type="button" class="btn btn-sm btn-secondary" data-testid="chat-timeout" onClick={(e) => void moderate('timeout', l.m, e.currentTarget)}>
                      Time out 10 min
                    </button>
                    <button type="button" class="btn btn-sm btn-secondary" data-testid="chat-ban" onClick={(e) => void moderate('ban', l.m, e.currentTarget)}>
                      Ban
                    </button>
                  </div>
                </details>
              )}
            </li>
          ),
        )}
      </ol>
      {(modes.slowSeconds > 0 || modes.minAccountAgeMinutes > 0 || modes.followersOnlyMinutes !== null || modes.subscribersOnly || modes.emoteOnly) && (
        <p class="chat-modes muted small" data-testid="chat-modes">
          {modes.slowSeconds > 0 && <span>Slow mode: {modes.slowSeconds} s</span>}
          {modes.minAccountAgeMinutes > 0 && <span>Accounts older than {modes.minAccountAgeMinutes} min</span>}
          {modes.followersOnlyMinutes !== null && <span>Followers only{modes.followersOnlyMinutes > 0 ? ` (${modes.followersOnlyMinutes} min)` : ''}</span>}
          {modes.subscribersOnly && <span>Subscribers only</span>}
          {modes.emoteOnly && <span>Emote only</span>}
        </p>
      )}
      {notice && (
        <p class="chat-notice error small" role="alert" data-testid="chat-notice">
          {notice}
        </p>
      )}
      {user ? (
        <form class="chat-form" onSubmit={send}>
          <EmotePicker builtin={BUILTIN_EMOTES} channel={channelEmotes} onPick={addEmote} />
          <input
            ref={inputRef}
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
