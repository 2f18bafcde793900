// One line of chat as a Twitch user reads it: the time (the full date on hover), the sender's badges and their name in
// a colour of their own, then the text with emotes as images and @mentions marked (more so when they name you).
// The text is rendered as text, never as HTML: an emote is an <img> only for a code the app or the channel defined.
import type { ComponentChildren } from 'preact';
import { tokenize, type Emote } from '../../../../shared/emotes.ts';
import type { ChatBadge, ChatMessage } from '../../../../shared/socket-events.ts';

/** Name colours readable on the dark theme (contrast ≥ 4.5:1 on its panels). */
const PALETTE = ['#ff7a7a', '#ffa657', '#f2cc60', '#9be36d', '#4fd6a5', '#4dd0e1', '#79b8ff', '#a5a5ff', '#d2a8ff', '#ff8fd0', '#ffb3a7', '#c3e88d'];

/** A user's name colour: the same for a user everywhere and on every visit (a hash of their id, FNV-1a). */
export function nameColor(userId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
  return PALETTE[(h >>> 0) % PALETTE.length]!;
}

const BADGES: Record<ChatBadge, { label: string; icon: ComponentChildren }> = {
  owner: { label: 'Channel owner', icon: <path d="M2 5h8v6H2zM10 7l4-2v6l-4-2z" /> },
  moderator: { label: 'Moderator', icon: <path d="M8 1l6 2.5v4C14 11 11.5 14 8 15 4.5 14 2 11 2 7.5v-4z" /> },
  subscriber: { label: 'Subscriber', icon: <path d="M8 1l2.1 4.4 4.9.7-3.5 3.4.8 4.8L8 12l-4.3 2.3.8-4.8L1 6.1l4.9-.7z" /> },
};

export function Badge({ kind }: { kind: ChatBadge }) {
  const b = BADGES[kind];
  return (
    <span class={`chat-badge badge-${kind}`} title={b.label} data-testid="chat-badge" data-badge={kind}>
      <svg viewBox="0 0 16 16" width="14" height="14" role="img" aria-label={b.label}>
        {b.icon}
      </svg>
    </span>
  );
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** Whether a message @mentions this name (case does not matter, as names are typed). */
export const mentions = (text: string, name: string | undefined) => !!name && tokenize(text, new Set()).some((t) => t.kind === 'mention' && t.name.toLowerCase() === name.toLowerCase());

/** The text of a message: words, emotes (images from the app's set or the channel's) and @mentions. */
export function MessageText({ text, emotes, me }: { text: string; emotes: Map<string, Emote>; me?: string }) {
  const codes = new Set(emotes.keys());
  return (
    <span class="chat-text">
      {tokenize(text, codes).map((t, i) =>
        t.kind === 'emote' ? (
          <img key={i} class="chat-emote" src={emotes.get(t.code)!.url} alt={t.code} title={t.code} width={28} height={28} data-testid="chat-emote" />
        ) : t.kind === 'mention' ? (
          <span key={i} class={`chat-mention${me && t.name.toLowerCase() === me.toLowerCase() ? ' me' : ''}`} data-testid="chat-mention">
            {t.text}
          </span>
        ) : (
          t.text
        ),
      )}
    </span>
  );
}

/** The time, badges and coloured name before a message's text. */
export function MessageHead({ m }: { m: ChatMessage }) {
  const at = new Date(m.sentAt);
  return (
    <>
      <time class="chat-time" dateTime={m.sentAt} title={fullFmt.format(at)} data-testid="chat-time">
        {timeFmt.format(at)}
      </time>
      {m.author.badges.map((b) => (
        <Badge key={b} kind={b} />
      ))}
      <strong class="chat-author" style={{ color: nameColor(m.author.id) }} data-testid="chat-author">
        {m.author.name}
      </strong>
      <span class="chat-colon">: </span>
    </>
  );
}
