// Category and tag chips.
import type { Channel } from '../api.ts';

export function Tags({ channel, links = false }: { channel: Pick<Channel, 'category' | 'tags'>; links?: boolean }) {
  if (!channel.category && channel.tags.length === 0) return null;
  return (
    <ul class="chips" aria-label="Category and tags">
      {channel.category && (
        <li>
          {links ? (
            <a class="chip chip-category" href={`/?category=${encodeURIComponent(channel.category)}`}>
              {channel.category}
            </a>
          ) : (
            <span class="chip chip-category">{channel.category}</span>
          )}
        </li>
      )}
      {channel.tags.map((t) => (
        <li key={t}>
          {links ? (
            <a class="chip" href={`/?tag=${encodeURIComponent(t)}`}>
              #{t}
            </a>
          ) : (
            <span class="chip">#{t}</span>
          )}
        </li>
      ))}
    </ul>
  );
}
