// Anything the router does not know.
import { useTitle } from '../title.ts';

export function NotFoundPage({ what = 'This page' }: { what?: string }) {
  useTitle('Not found');
  return (
    <section class="state state-notfound" data-testid="not-found">
      <p class="big-code" aria-hidden="true">
        404
      </p>
      <h1>{what} does not exist</h1>
      <p class="muted">The link may be old, or the channel was renamed or deleted.</p>
      <a href="/" class="btn btn-primary">
        Back to channels
      </a>
    </section>
  );
}
