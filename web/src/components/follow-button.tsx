// Follow / Following on a channel, with its follower count. Signed out, it leads to sign-in. Following a channel that
// is live says so at once (its go-live notification went out before you followed).
import { useEffect, useState } from 'preact/hooks';
import { api, type FollowState, type User } from '../api.ts';
import { useLiveChannel } from '../live-state.ts';

export function FollowButton({ slug, ownerId, followers, user }: { slug: string; ownerId: string; followers: number; user: User | null }) {
  const [state, setState] = useState<FollowState>({ following: false, followers });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [followedNow, setFollowedNow] = useState(false);
  const { channel } = useLiveChannel({ slug, title: '', live: null });

  useEffect(() => {
    if (!user) return;
    const ctl = new AbortController();
    api.followState(slug, ctl.signal).then(setState, () => undefined);
    return () => ctl.abort();
  }, [slug, user?.id]);

  const count = (
    <span class="muted small" data-testid="follower-count">
      {state.followers} {state.followers === 1 ? 'follower' : 'followers'}
    </span>
  );
  if (!user)
    return (
      <span class="follow">
        <a class="btn btn-secondary btn-sm" href="/sign-in" data-testid="follow-button">
          Follow
        </a>
        {count}
      </span>
    );
  if (user.id === ownerId) return <span class="follow">{count}</span>;

  const toggle = async () => {
    setBusy(true);
    setError('');
    try {
      const next = await (state.following ? api.unfollow(slug) : api.follow(slug));
      setState(next);
      setFollowedNow(next.following);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="follow">
      <button type="button" class={`btn btn-sm ${state.following ? 'btn-secondary' : 'btn-primary'}`} aria-pressed={state.following} disabled={busy} onClick={toggle} data-testid="follow-button">
        {state.following ? 'Following' : 'Follow'}
      </button>
      {count}
      {followedNow && channel.live && (
        <span class="live-note" role="status" data-testid="follow-live-note">
          <strong>{channel.title || slug}</strong> is live now —{' '}
          <a href={`/c/${slug}`} data-testid="follow-live-watch">
            watch
          </a>
        </span>
      )}
      {error && (
        <span class="error small" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
