// Shared by the sign-in and sign-up pages: where to go afterwards.

/** The ?next= target if it is a safe in-app path, else home. */
export function nextPath(search: URLSearchParams): string {
  const next = search.get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
