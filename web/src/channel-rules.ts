// The channel form's checks, on the rules the API enforces (shared/bounds.ts), so most mistakes show before a round
// trip; only the wording is the web's own.
import { CHANNEL_LIMITS as LIMITS, SLUG_MAX, SLUG_MIN, SLUG_PATTERN } from '../../shared/bounds.ts';

export { LIMITS };

export type ChannelDraft = { slug?: string; title: string; description: string; category: string; tags: string[] };

export function validateChannel(d: ChannelDraft): Record<string, string> {
  const e: Record<string, string> = {};
  if (d.slug !== undefined && !SLUG_PATTERN.test(d.slug)) {
    e.slug = d.slug.length < SLUG_MIN || d.slug.length > SLUG_MAX
      ? `Use ${SLUG_MIN}–${SLUG_MAX} characters.`
      : 'Use lowercase letters, digits and hyphens (not at the start or end).';
  }
  if (!d.title.trim()) e.title = 'Give the channel a title.';
  else if (d.title.trim().length > LIMITS.title) e.title = `Keep the title under ${LIMITS.title} characters.`;
  if (d.description.length > LIMITS.description) e.description = `Keep the description under ${LIMITS.description} characters.`;
  if (d.category.trim().length > LIMITS.category) e.category = `Keep the category under ${LIMITS.category} characters.`;
  if (d.tags.length > LIMITS.tags) e.tags = `At most ${LIMITS.tags} tags.`;
  else if (d.tags.some((t) => t.length > LIMITS.tag)) e.tags = `Each tag can have at most ${LIMITS.tag} characters.`;
  return e;
}
