// The chat's moderation pane, for the channel's moderators: who is banned or timed out (by whom, until when, why) with
// Unban; for the owner, the moderators (appoint by name, remove) and the channel's emotes (upload, delete). Everything
// goes through the server, which checks each action again.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api.ts';
import { EMOTE_CODE_PATTERN, EMOTE_MAX_BYTES, type Emote } from '../../../../shared/emotes.ts';
import type { ChatBanView, ChatUserRef } from '../../../../shared/socket-events.ts';
import type { PageSocket } from '../../socket.ts';
import { formatBytes } from '../../format.ts';

type Props = {
  slug: string;
  socket: () => PageSocket | null;
  owner: boolean;
  /** bumped by the panel when a moderation event arrives: the lists are read again */
  version: number;
  emotes: Emote[];
  onEmotes: (list: Emote[]) => void;
};

const untilText = (until: string | null) => (until ? `until ${new Date(until).toLocaleString()}` : 'for good');

export function ModerationPane({ slug, socket, owner, version, emotes, onEmotes }: Props) {
  const [bans, setBans] = useState<ChatBanView[] | null>(null);
  const [mods, setMods] = useState<ChatUserRef[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [code, setCode] = useState('');
  const [file, setFile] = useState<File | null>(null);

  const ask = async (event: 'bans' | 'moderators') => {
    const s = socket()?.timeout(10_000);
    const r = await (event === 'bans' ? s?.emitWithAck('bans', { channel: slug }) : s?.emitWithAck('moderators', { channel: slug }))?.catch(() => undefined);
    if (!r) return setError('The list could not be loaded; check your connection.');
    if (!r.ok) return setError(r.error.message);
    if ('bans' in r) setBans(r.bans);
    if ('moderators' in r) setMods(r.moderators);
  };
  useEffect(() => {
    void ask('bans');
    if (owner) void ask('moderators');
  }, [slug, owner, version]);

  const act = async (run: () => Promise<{ ok: boolean; error?: { message: string } } | undefined>) => {
    setError('');
    const r = await run().catch(() => undefined);
    if (!r) setError('That did not go through; check your connection.');
    else if (!r.ok) setError(r.error?.message ?? 'Refused.');
    return !!r?.ok;
  };
  const unban = (u: ChatUserRef) => act(() => socket()!.timeout(10_000).emitWithAck('unban', { channel: slug, userId: u.id })).then(() => ask('bans'));
  const unmod = (u: ChatUserRef) => act(() => socket()!.timeout(10_000).emitWithAck('unmod', { channel: slug, userId: u.id })).then(() => ask('moderators'));
  const appoint = async (e: Event) => {
    e.preventDefault();
    if (await act(() => socket()!.timeout(10_000).emitWithAck('modByName', { channel: slug, name: name.trim() }))) setName('');
    void ask('moderators');
  };
  const upload = async (e: Event) => {
    e.preventDefault();
    setError('');
    if (!EMOTE_CODE_PATTERN.test(code)) return setError('An emote code is a letter, then 2–24 letters or digits.');
    if (!file) return setError('Choose an image for the emote.');
    if (file.size > EMOTE_MAX_BYTES) return setError(`That image is ${formatBytes(file.size)}; emotes are at most ${formatBytes(EMOTE_MAX_BYTES)}.`);
    try {
      const added = await api.uploadEmote(slug, code, file);
      onEmotes([...emotes.filter((x) => x.code !== added.code), added]);
      setCode('');
      setFile(null);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const remove = async (c: string) => {
    setError('');
    try {
      await api.deleteEmote(slug, c);
      onEmotes(emotes.filter((x) => x.code !== c));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div class="chat-pane" data-testid="moderation-pane">
      {error && (
        <p class="error small" role="alert" data-testid="moderation-error">
          {error}
        </p>
      )}
      <section aria-labelledby={`bans-${slug}`}>
        <h3 id={`bans-${slug}`}>Banned and timed out</h3>
        {bans === null ? (
          <p class="muted small">Loading…</p>
        ) : bans.length === 0 ? (
          <p class="muted small" data-testid="bans-empty">
            Nobody is banned.
          </p>
        ) : (
          <ul class="chat-rows" data-testid="bans">
            {bans.map((b) => (
              <li key={b.user.id} data-testid="ban" data-user={b.user.id}>
                <span>
                  <strong>{b.user.name}</strong> <span class="muted small">{untilText(b.until)}{b.by ? ` · by ${b.by.name}` : ''}{b.reason ? ` · “${b.reason}”` : ''}</span>
                </span>
                <button type="button" class="btn btn-sm btn-secondary" onClick={() => void unban(b.user)} data-testid="unban">
                  Unban
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {owner && (
        <section aria-labelledby={`mods-${slug}`}>
          <h3 id={`mods-${slug}`}>Moderators</h3>
          <form class="chat-inline-form" onSubmit={appoint}>
            <input aria-label="Name of the user to appoint" placeholder="Name" maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="mod-name" />
            <button type="submit" class="btn btn-sm btn-primary" disabled={!name.trim()} data-testid="mod-add">
              Appoint
            </button>
          </form>
          {mods && mods.length === 0 && <p class="muted small">No moderators yet.</p>}
          {mods && mods.length > 0 && (
            <ul class="chat-rows" data-testid="mods">
              {mods.map((m) => (
                <li key={m.id} data-testid="mod" data-user={m.id}>
                  <strong>{m.name}</strong>
                  <button type="button" class="btn btn-sm btn-secondary" onClick={() => void unmod(m)} data-testid="mod-remove">
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {owner && (
        <section aria-labelledby={`emotes-${slug}`}>
          <h3 id={`emotes-${slug}`}>Channel emotes</h3>
          <form class="chat-inline-form" onSubmit={upload}>
            <input aria-label="Emote code" placeholder="Code, e.g. owlWave" maxLength={25} value={code} onInput={(e) => setCode(e.currentTarget.value)} data-testid="emote-code" />
            <input type="file" aria-label="Emote image" accept="image/png,image/jpeg,image/gif,image/webp" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} data-testid="emote-file" />
            <button type="submit" class="btn btn-sm btn-primary" data-testid="emote-upload">
              Add
            </button>
          </form>
          {emotes.length > 0 && (
            <ul class="chat-rows" data-testid="channel-emotes">
              {emotes.map((e) => (
                <li key={e.code}>
                  <span>
                    <img src={e.url} alt="" width={28} height={28} class="chat-emote" /> {e.code}
                  </span>
                  <button type="button" class="btn btn-sm btn-secondary" onClick={() => void remove(e.code)} aria-label={`Delete ${e.code}`}>
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
