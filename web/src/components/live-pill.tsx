// The header's reminder that this tab is broadcasting while its owner looks at another page: back to the studio, or
// end the broadcast (after a confirmation) from wherever they are.
import { useLocation } from '../router.ts';
import { endBroadcast, useBroadcast } from '../live/broadcast.ts';
import { ConfirmButton } from './confirm.tsx';

export function LivePill() {
  const b = useBroadcast();
  const { path } = useLocation();
  const studio = b && `/studio/${b.slug}`;
  if (!b || path === studio) return null;
  return (
    <div class="live-pill" role="status" data-testid="live-pill">
      <span class="live-pill-dot" aria-hidden="true" />
      <span class="live-pill-text">Live</span>
      <a href={studio!} class="btn btn-sm btn-secondary" aria-label="You are live: back to the studio" data-testid="live-pill-studio">
        Studio
      </a>
      <ConfirmButton label="End" prompt="End the broadcast?" confirmLabel="End stream" onConfirm={endBroadcast} testid="live-pill-end" />
    </div>
  );
}
