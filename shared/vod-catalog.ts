// The catalog's rules for a VoD's details, shared by the API (which enforces them) and the web's edit form and videos
// page (which show them before a round trip): visibilities, languages, limits, and the browse filters' buckets.

/**
 * public: listed and playable by anyone; unlisted: playable by whoever has its link, never listed (catalog, channel
 * lists, search, related); private: its channel's owner and admins only (404 to anyone else, its HLS too);
 * subscribers: listed, played by the channel's subscribers (and its owner, admins).
 */
export const VISIBILITIES = ['public', 'unlisted', 'private', 'subscribers'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
/** The visibilities a VoD is listed under (catalog, channel page, search, related). */
export const LISTED_VISIBILITIES = ['public', 'subscribers'] as const satisfies readonly Visibility[];

/** Where a VoD came from: a recorded broadcast or an uploaded file. */
export const VOD_SOURCES = ['broadcast', 'upload'] as const;
export type VodSource = (typeof VOD_SOURCES)[number];

export const VOD_LIMITS = { title: 120, description: 5000, chapters: 100, chapterTitle: 100 } as const;

/** Languages a video may be marked with: BCP-47 primary subtags (with a region where it matters), and their names. */
export const LANGUAGES = {
  ar: 'Arabic', bn: 'Bengali', cs: 'Czech', da: 'Danish', de: 'German', el: 'Greek', en: 'English', es: 'Spanish', fa: 'Persian',
  fi: 'Finnish', fr: 'French', he: 'Hebrew', hi: 'Hindi', hu: 'Hungarian', id: 'Indonesian', it: 'Italian', ja: 'Japanese',
  ko: 'Korean', nl: 'Dutch', no: 'Norwegian', pl: 'Polish', pt: 'Portuguese', 'pt-BR': 'Portuguese (Brazil)', ro: 'Romanian',
  ru: 'Russian', sv: 'Swedish', th: 'Thai', tr: 'Turkish', uk: 'Ukrainian', vi: 'Vietnamese', zh: 'Chinese',
  'zh-TW': 'Chinese (Taiwan)',
} as const satisfies Record<string, string>;
export type Language = keyof typeof LANGUAGES;
export const LANGUAGE_CODES = Object.keys(LANGUAGES) as Language[];

/** The videos page's duration filter: short under 4 minutes, medium 4–20, long over 20 (seconds, [min, max)). */
export const DURATION_BUCKETS = { short: [0, 240], medium: [240, 1200], long: [1200, Infinity] } as const;
export type DurationBucket = keyof typeof DURATION_BUCKETS;
/** The videos page's date filter: published within the last … (milliseconds). */
export const DATE_RANGES = { today: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000, year: 365 * 86_400_000 } as const;
export type DateRange = keyof typeof DATE_RANGES;
export const CATALOG_SORTS = ['newest', 'views'] as const;
export type CatalogSort = (typeof CATALOG_SORTS)[number];
export const CATALOG_PAGE_MAX = 50;
export const RELATED_MAX = 12;

export type Chapter = { startSeconds: number; title: string };

/**
 * Why a list of chapters cannot be stored, or undefined: sorted by start, the first at 0, no two at one time, none
 * past the end (when the duration is known), at most VOD_LIMITS.chapters.
 */
export function chapterFault(chapters: readonly Chapter[], durationSeconds: number | null): string | undefined {
  if (chapters.length === 0) return undefined;
  if (chapters.length > VOD_LIMITS.chapters) return `At most ${VOD_LIMITS.chapters} chapters.`;
  if (chapters[0]!.startSeconds !== 0) return 'The first chapter starts at 0:00.';
  for (let i = 1; i < chapters.length; i++) {
    if (chapters[i]!.startSeconds <= chapters[i - 1]!.startSeconds) return `Chapter ${i + 1} ("${chapters[i]!.title}") must start after chapter ${i}.`;
  }
  const last = chapters[chapters.length - 1]!;
  if (durationSeconds !== null && last.startSeconds >= durationSeconds) return `Chapter "${last.title}" starts at or after the end of the video (${Math.floor(durationSeconds)} s).`;
  return undefined;
}
