// The channels the signed-in user follows: live ones first.
import { useEffect, useState } from 'preact/hooks';
import { api, type Channel } from '../api.ts';
import { ChannelCard } from '../components/channel-card.tsx';
import { ErrorState, Loading } from '../components/status.tsx';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';

export function FollowingPage() {
  const { status, user } = useSession();
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [error, setError] = useState('');
  useTitle('Following');

  useEffect(() => {
    if (!user) return;
    const ctl = new AbortController();
    api.following(ctl.signal).then(
      (page) => setChannels(page.items),
      (err: unknown) => !ctl.signal.aborted && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => ctl.abort();
  }, [user?.id]);

  if (status === 'loading') return <Loading label="Loading…" />;
  if (!user)
    return (
      <p class="panel">
        <a href="/sign-in">Sign in</a> to see the channels you follow.
      </p>
    );
  if (error) return <ErrorState message={error} />;
  if (!channels) return <Loading label="Loading the channels you follow…" />;
  return (
    <section aria-labelledby="following-heading" data-testid="following-page">
      <h1 id="following-heading">Following</h1>
      {channels.length === 0 ? (
        <p class="muted">You follow no channel yet. Channels you follow show here, live ones first, and you hear when they go live.</p>
      ) : (
        <ul class="grid" data-testid="channel-grid">
          {channels.map((c) => (
            <ChannelCard key={c.id} channel={c} />
          ))}
        </ul>
      )}
    </section>
  );
}
