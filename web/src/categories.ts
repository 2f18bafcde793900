// The site's categories for a filter's choices (the search page, the videos page): loaded once per page, empty until
// they arrive (a filter still works without them).
import { useEffect, useState } from 'preact/hooks';
import { api, type Category } from './api.ts';

export function useCategories(): Category[] {
  const [categories, setCategories] = useState<Category[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    api.categories(ctl.signal).then((r) => setCategories(r.items), () => {});
    return () => ctl.abort();
  }, []);
  return categories;
}
