// One of my channels on the "My channels" page: a summary row that expands to edit details, the avatar,
// stream keys, and to delete the channel.
import { useEffect, useRef } from 'preact/hooks';
import { api, type Channel } from '../api.ts';
import { formatDate } from '../format.ts';
import { Avatar } from './avatar.tsx';
import { ChannelForm } from './channel-form.tsx';
import { AvatarEditor } from './avatar-editor.tsx';
import { ConfirmButton } from './confirm.tsx';
import { StreamKeys } from './stream-keys.tsx';
import { SubscriptionsManager, WebhooksManager } from './channel-integrations.tsx';

type Props = {
  channel: Channel;
  open: boolean;
  onToggle: () => void;
  onChange: (c: Channel) => void;
  onDeleted: () => void;
  /** how many stream keys it has, once known and after every change */
  onKeys?: (count: number) => void;
};

export function ChannelManager({ channel, open, onToggle, onChange, onDeleted, onKeys }: Props) {
  const ref = useRef<HTMLElement>(null);
  const panelId = `manage-${channel.slug}`;

  useEffect(() => {
    if (open && location.hash.slice(1) === channel.slug) ref.current?.scrollIntoView({ block: 'start' });
  }, []);

  return (
    <article class={`panel manager${open ? ' open' : ''}`} id={channel.slug} ref={ref} data-testid="my-channel" data-slug={channel.slug}>
      <div class="manager-head">
        <Avatar channel={channel} size="md" />
        <div class="manager-title">
          <h2>
            <a href={`/c/${channel.slug}`} data-testid="my-channel-link">
              {channel.title}
            </a>
          </h2>
          <p class="muted small">
            /c/{channel.slug} · created {formatDate(channel.createdAt)}
            {channel.category ? ` · ${channel.category}` : ''}
          </p>
        </div>
        <a class="btn btn-secondary btn-sm" href={`/studio/${channel.slug}/upload`} data-testid="upload-link">
          Upload a video
        </a>
        <button
          type="button"
          class="btn btn-secondary btn-sm"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={onToggle}
          data-testid="manage-toggle"
        >
          {open ? 'Close' : 'Manage'}
        </button>
      </div>
      {open && (
        <div class="manager-body" id={panelId}>
          <div class="manager-grid">
            <section class="subpanel" aria-labelledby={`${panelId}-details`}>
              <h3 id={`${panelId}-details`}>Details</h3>
              <ChannelForm
                mode="edit"
                channel={channel}
                onSubmit={async (patch) => onChange(await api.updateChannel(channel.slug, patch))}
              />
            </section>
            <AvatarEditor channel={channel} onChange={onChange} />
          </div>
          <StreamKeys slug={channel.slug} onKeys={onKeys} />
          <SubscriptionsManager channel={channel} onChange={onChange} />
          <WebhooksManager slug={channel.slug} />
          <section class="subpanel danger-zone" aria-labelledby={`${panelId}-danger`}>
            <h3 id={`${panelId}-danger`}>Delete channel</h3>
            <p class="muted small">Deleting removes the channel, its avatar and all of its stream keys. This cannot be undone.</p>
            <ConfirmButton
              label="Delete channel…"
              size="md"
              prompt={<>Delete “{channel.title}” for good?</>}
              confirmLabel="Yes, delete it"
              onConfirm={async () => {
                await api.deleteChannel(channel.slug);
                onDeleted();
              }}
              testid="channel-delete"
            />
          </section>
        </div>
      )}
    </article>
  );
}
