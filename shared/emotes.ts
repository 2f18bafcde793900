// Chat emotes, read by the server (emote-only mode) and the browser (rendering, the picker) alike: the built-in set
// shipped in the app (small SVGs, no request), the rules for a channel's own emotes, and how a message's text splits
// into words, emotes and @mentions.

/** A channel's own emotes at most, and each image's bounds (checked like avatars: api/images.ts). */
export const MAX_CHANNEL_EMOTES = 25;
export const EMOTE_MAX_BYTES = 256 * 1024;
export const EMOTE_MAX_SIDE = 512;
/** An emote's code: a letter, then 2–24 letters or digits (Twitch's shape: words a message can carry as they are). */
export const EMOTE_CODE_PATTERN = /^[A-Za-z][A-Za-z0-9]{2,24}$/;

/** An emote as a message renders it: its code and where its image is. */
export type Emote = { code: string; url: string };

const face = (bg: string, mouth: string, extra = '') =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="${bg}"/>` +
  `<circle cx="11" cy="12" r="2.2" fill="#1b1b1f"/><circle cx="21" cy="12" r="2.2" fill="#1b1b1f"/>${mouth}${extra}</svg>`;
const svgs: Record<string, string> = {
  glintHi: face('#ffd166', '<path d="M9 19q7 7 14 0" stroke="#1b1b1f" stroke-width="2.5" fill="none" stroke-linecap="round"/>'),
  glintLol: face('#f4a261', '<path d="M8 18h16q-1 8-8 8t-8-8z" fill="#1b1b1f"/>'),
  glintSad: face('#8ecae6', '<path d="M10 24q6-6 12 0" stroke="#1b1b1f" stroke-width="2.5" fill="none" stroke-linecap="round"/>'),
  glintWow: face('#c77dff', '<circle cx="16" cy="22" r="4" fill="#1b1b1f"/>'),
  glintGG: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="1" y="4" width="30" height="24" rx="6" fill="#2a9d8f"/><text x="16" y="22" font-family="sans-serif" font-size="14" font-weight="bold" text-anchor="middle" fill="#fff">GG</text></svg>`,
  glintHeart: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 28 4 16a7 7 0 0 1 12-9 7 7 0 0 1 12 9z" fill="#ef476f"/></svg>`,
  glintFire: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2c2 6 10 9 10 18a10 10 0 0 1-20 0c0-5 3-7 4-11 1 3 2 4 4 5 0-5 1-8 2-12z" fill="#f77f00"/><path d="M16 30a5 5 0 0 1-5-5c0-3 3-5 5-8 2 3 5 5 5 8a5 5 0 0 1-5 5z" fill="#fcbf49"/></svg>`,
  glintClap: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="6" y="6" width="9" height="20" rx="4" transform="rotate(-15 10 16)" fill="#ffd166"/><rect x="17" y="6" width="9" height="20" rx="4" transform="rotate(15 22 16)" fill="#f4a261"/></svg>`,
};

/** The emotes every channel has, as data: URLs (shipped in the app: nothing to fetch, nothing a stranger controls). */
export const BUILTIN_EMOTES: readonly Emote[] = Object.entries(svgs).map(([code, svg]) => ({ code, url: `data:image/svg+xml,${encodeURIComponent(svg)}` }));
export const BUILTIN_CODES: ReadonlySet<string> = new Set(BUILTIN_EMOTES.map((e) => e.code));

/** A piece of a message: plain text, an emote, or an @mention of a name. */
export type Token = { kind: 'text'; text: string } | { kind: 'emote'; code: string } | { kind: 'mention'; name: string; text: string };

const MENTION = /^@([\p{L}\p{N}_.-]{1,40})$/u;
/** Splits a message into words (whitespace kept as text), emotes (a whole word that is a code) and @mentions. */
export function tokenize(text: string, codes: ReadonlySet<string>): Token[] {
  const out: Token[] = [];
  for (const part of text.split(/(\s+)/)) {
    if (!part) continue;
    const mention = MENTION.exec(part);
    if (codes.has(part)) out.push({ kind: 'emote', code: part });
    else if (mention) out.push({ kind: 'mention', name: mention[1]!, text: part });
    else {
      const last = out[out.length - 1];
      if (last?.kind === 'text') last.text += part;
      else out.push({ kind: 'text', text: part });
    }
  }
  return out;
}

/** True when every word of the message is an emote (emote-only mode's rule). */
export const onlyEmotes = (text: string, codes: ReadonlySet<string>) => text.split(/\s+/).every((w) => !w || codes.has(w));
