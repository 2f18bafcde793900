// A person's public profile (/u/<user id>): name, avatar, when they joined and their channels. Never their email.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Profile } from '../api.ts';
import { ChannelCard } from '../components/channel-card.tsx';
import { ErrorState, Loading } from '../components/status.tsx';
import { formatDate, hueOf, initials } from '../format.ts';
import { useTitle } from '../title.ts';
import { NotFoundPage } from './not-found.tsx';

export function ProfilePage({ id }: { id: string }) {
  const [profile, setProfile] = useState<Profile | 'missing' | null>(null);
  const [error, setError] = useState('');
  useTitle(profile && profile !== 'missing' ? profile.name : 'Profile');

  useEffect(() => {
    const ctl = new AbortController();
    api.profile(id, ctl.signal).then(setProfile, (err: unknown) => {
      if (ctl.signal.aborted) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setProfile('missing');
      else setError(err instanceof Error ? err.message : String(err));
    });
    return () => ctl.abort();
  }, [id]);

  if (error) return <ErrorState message={error} />;
  if (profile === 'missing') return <NotFoundPage what="This person" />;
  if (!profile) return <Loading label="Loading the profile…" />;
  return (
    <section class="profile-page" aria-labelledby="profile-heading" data-testid="profile-page">
      <header class="profile-head">
        {profile.image ? (
          <img class="profile-avatar" src={profile.image} alt="" width={72} height={72} />
        ) : (
          <span class="profile-avatar profile-avatar-mark" style={{ '--hue': String(hueOf(profile.id)) }} aria-hidden="true">
            {initials(profile.name)}
          </span>
        )}
        <div>
          <h1 id="profile-heading" data-testid="profile-name">
            {profile.name}
          </h1>
          <p class="muted" data-testid="profile-joined">
            Joined {formatDate(profile.joinedAt)}
          </p>
        </div>
      </header>
      <h2>Channels</h2>
      {profile.channels.length === 0 ? (
        <p class="muted" data-testid="profile-no-channels">
          {profile.name} has no channel yet.
        </p>
      ) : (
        <ul class="grid" data-testid="channel-grid">
          {profile.channels.map((c) => (
            <ChannelCard key={c.id} channel={c} />
          ))}
        </ul>
      )}
    </section>
  );
}
