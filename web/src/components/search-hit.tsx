// A search hit: its kind as a badge, title, channel, category, tags and date — in the results page's list.
import type { SearchHit, SearchKind } from '../api.ts';
import { hitHref } from '../api.ts';
import { formatDate, hueOf, initials } from '../format.ts';

const KIND_LABEL: Record<SearchKind, string> = { channel: 'Channel', live: 'Live', vod: 'Video' };

export function KindBadge({ kind }: { kind: SearchKind }) {
  return <span class={`kind kind-${kind}`}>{KIND_LABEL[kind]}</span>;
}

export function SearchHitRow({ hit }: { hit: SearchHit }) {
  const when = hit.kind === 'live' ? `live since ${formatDate(hit.date)}` : hit.kind === 'vod' ? `streamed ${formatDate(hit.date)}` : `since ${formatDate(hit.date)}`;
  return (
    <li>
      <a class="hit" href={hitHref(hit)} data-testid="search-hit" data-kind={hit.kind}>
        <span class="hit-thumb" style={{ '--hue': String(hueOf(hit.channel.slug)) }} aria-hidden="true">
          {initials(hit.title)}
        </span>
        <span class="hit-text">
          <span class="hit-head">
            <KindBadge kind={hit.kind} />
            <strong class="hit-title" data-testid="search-hit-title">
              {hit.title}
            </strong>
          </span>
          <span class="hit-meta muted">
            {hit.kind === 'vod' ? `${hit.channel.title} · ` : ''}
            {hit.category ? `${hit.category} · ` : ''}
            {when}
          </span>
          {hit.description && hit.kind !== 'vod' && <span class="hit-desc">{hit.description}</span>}
          {hit.tags.length > 0 && <span class="hit-tags muted">{hit.tags.map((t) => `#${t}`).join(' ')}</span>}
        </span>
      </a>
    </li>
  );
}
