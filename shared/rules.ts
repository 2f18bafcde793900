// Rules on what people type that every entry enforces the same way (better-auth's sign-up and update-user, Glint's
// own routes, scripts/create-admin.ts) and the web client can show before sending.
// The numbers, patterns and names among them are in shared/bounds.ts, which has no zod: the browser bundle imports that.
import { z } from 'zod';
import { CHANNEL_LIMITS, EMAIL_MAX, IMAGE_URL_MAX, NAME_MAX } from './bounds.ts';

export * from './bounds.ts';

// Control and format characters (bidi overrides, zero-width spaces), unassigned and private-use code points, and
// line or paragraph separators: invisible or layout-changing in text shown to everyone (a name beside every chat
// message, a channel title). The zero-width (non-)joiners stay: Persian and Indic names and emoji sequences need them.
const INVISIBLE = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?![\u200c\u200d])\p{Cf}/u;
const INVISIBLE_BUT_LINES = /[\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?![\t\n\r])\p{Cc}|(?![\u200c\u200d])\p{Cf}/u;

/** Whether one line of text shown to others has nothing invisible or layout-changing in it. */
export const isVisibleLine = (s: string) => !INVISIBLE.test(s);
/** The same for text of several lines (tabs and line breaks allowed). */
export const isVisibleText = (s: string) => !INVISIBLE_BUT_LINES.test(s);
export const INVISIBLE_MESSAGE = 'must not contain control or invisible characters';

/** A tag of a channel or a video: trimmed, lowercased, 1–CHANNEL_LIMITS.tag characters, nothing invisible. */
const Tag = z
  .string()
  .trim()
  .min(1)
  .max(CHANNEL_LIMITS.tag)
  .refine(isVisibleLine, INVISIBLE_MESSAGE)
  .transform((t) => t.toLowerCase());
/** The tags of a channel or a video: at most CHANNEL_LIMITS.tags, each once. */
export const TagList = z
  .array(Tag)
  .max(CHANNEL_LIMITS.tags, `at most ${CHANNEL_LIMITS.tags} tags`)
  .transform((t) => [...new Set(t)]);
/** The category of a channel or a video: free text, as the site's categories are (GET /api/categories lists them). */
export const CategoryName = z.string().trim().max(CHANNEL_LIMITS.category).refine(isVisibleLine, INVISIBLE_MESSAGE);

/** A display name: NFC, trimmed, inner whitespace runs as one space, 1–NAME_MAX characters, nothing invisible. */
export const UserName = z
  .string({ error: 'a name is text' })
  .transform((s) => s.normalize('NFC').replace(/[\t\n\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000 ]+/g, ' ').trim())
  .pipe(
    z
      .string()
      .refine((s) => s.length > 0, `Your name must be 1–${NAME_MAX} characters.`)
      .refine((s) => [...s].length <= NAME_MAX, `Your name must be 1–${NAME_MAX} characters.`)
      .refine(isVisibleLine, 'Your name may not contain control or invisible characters.'),
  );

/** A profile image: an http(s) URL of bounded length, or none. */
export const ImageUrl = z
  .string()
  .max(IMAGE_URL_MAX, `The image URL may be at most ${IMAGE_URL_MAX} characters.`)
  .pipe(z.url({ protocol: /^https?$/, error: 'The image must be an http(s) URL.' }))
  .nullable();

export const Email = z.email().max(EMAIL_MAX, `An email address is at most ${EMAIL_MAX} characters.`);

/** The first problem's message, for the entries that report one line (better-auth's errors). */
export function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'Invalid input.';
}

/** the largest avatar, in pixels on either side (read from the file's header before anything decodes it) */
export const AVATAR_MAX_SIDE = 4096;

// Text a database cannot store: PostgreSQL's text holds no U+0000, and a lone UTF-16 surrogate has no UTF-8 form
// (PGlite refuses it, PostgreSQL's driver silently turns it into U+FFFD). Refused at every entry, whatever the field.
const NUL = '\u0000';
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag, a surrogate pair is one code point and does not match
/** the deepest nesting of objects and arrays a client may send (Glint's own bodies are three levels deep) */
export const MAX_NESTING = 32;

/** Why a string cannot be stored as text, as the end of a sentence naming it; undefined when it can. */
export function textFault(s: string): string | undefined {
  if (s.includes(NUL)) return 'contains a NUL character (U+0000); remove it';
  if (LONE_SURROGATE.test(s)) return 'contains invalid Unicode (an unpaired surrogate); send well-formed UTF-8';
  return undefined;
}

/**
 * The first string (value or object key) in a parsed payload that cannot be stored, with its path (`json.tags.0`),
 * or nesting deeper than `maxDepth`. Iterative and bounded: a 10 000-deep body cannot overflow the stack here.
 */
export function findTextFault(value: unknown, root: string, maxDepth = MAX_NESTING): { path: string; message: string } | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const fault = textFault(v);
      if (fault) return { path, message: fault };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path, message: `is nested more than ${maxDepth} levels deep` };
    for (const [key, child] of Object.entries(v)) {
      const fault = textFault(key);
      if (fault) return { path, message: `has a key that ${fault}` };
      stack.push({ value: child, path: `${path}.${key.length > 40 ? key.slice(0, 40) + '…' : key}`, depth: depth + 1 });
    }
  }
  return undefined;
}

