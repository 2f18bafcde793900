// A channel's avatar: the uploaded image, or its initials on a colour derived from the slug.
import { useEffect, useState } from 'preact/hooks';
import type { Channel } from '../api.ts';
import { hueOf, initials } from '../format.ts';

type Props = { channel: Pick<Channel, 'slug' | 'title' | 'avatarUrl'>; size?: 'sm' | 'md' | 'lg' | 'xl'; src?: string | null };

export function Avatar({ channel, size = 'md', src }: Props) {
  const url = src ?? channel.avatarUrl;
  const [broken, setBroken] = useState(false);
  useEffect(() => setBroken(false), [url]);
  const cls = `avatar avatar-${size}`;
  if (url && !broken) {
    return <img class={cls} src={url} alt="" data-testid="avatar-img" onError={() => setBroken(true)} />;
  }
  const hue = hueOf(channel.slug);
  return (
    <span class={`${cls} avatar-initials`} style={{ '--hue': String(hue) }} aria-hidden="true" data-testid="avatar-initials">
      {initials(channel.title)}
    </span>
  );
}
