// The composer's emote menu: the built-in set and the channel's own; choosing one adds its code to the message.
import type { Emote } from '../../../../shared/emotes.ts';

export function EmotePicker({ builtin, channel, onPick }: { builtin: readonly Emote[]; channel: Emote[]; onPick: (code: string) => void }) {
  const group = (title: string, list: readonly Emote[]) =>
    list.length > 0 && (
      <div role="group" aria-label={title}>
        <p class="muted small">{title}</p>
        <div class="emote-grid">
          {list.map((e) => (
            <button key={e.code} type="button" class="emote-choice" title={e.code} aria-label={e.code} data-testid="emote-choice" data-code={e.code} onClick={() => onPick(e.code)}>
              <img src={e.url} alt="" width={28} height={28} />
            </button>
          ))}
        </div>
      </div>
    );
  return (
    <details class="emote-picker" data-testid="emote-picker">
      <summary class="btn btn-sm btn-secondary" aria-label="Emotes" title="Emotes">
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
          <circle cx="8" cy="8" r="7" fill="none" stroke="currentColor" stroke-width="1.5" />
          <circle cx="5.5" cy="6.5" r="1" fill="currentColor" />
          <circle cx="10.5" cy="6.5" r="1" fill="currentColor" />
          <path d="M4.5 9.5q3.5 3.5 7 0" fill="none" stroke="currentColor" stroke-width="1.5" />
        </svg>
      </summary>
      <div class="emote-menu">
        {group('This channel', channel)}
        {group('Glint', builtin)}
      </div>
    </details>
  );
}
