// Sets document.title for the current page.
import { useEffect } from 'preact/hooks';

export function useTitle(title: string | null | undefined) {
  useEffect(() => {
    document.title = title ? `${title} · Glint` : 'Glint';
  }, [title]);
}
