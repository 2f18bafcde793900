// The owner's edit form on a video's page: details (title, description, category, tags, language), who sees it
// (visibility, a premiere time), the poster (a generated frame or an uploaded image), chapters, and deleting it.
// The rules are the API's own (shared/vod-catalog.ts, shared/bounds.ts); its refusals show next to their fields.
import { useState } from 'preact/hooks';
import { api, AVATAR_TYPES, type Chapter, type Vod, type VodPatch } from '../api.ts';
import { duration, parseTags } from '../format.ts';
import { CHANNEL_LIMITS } from '../../../shared/bounds.ts';
import { chapterFault, LANGUAGES, VISIBILITIES, VOD_LIMITS, type Visibility } from '../../../shared/vod-catalog.ts';
import { ConfirmButton } from './confirm.tsx';
import { Button, errorsFor, Field, fieldBinder, FormError, type FormErrors } from './form.tsx';

const VISIBILITY_LABELS: Record<Visibility, string> = {
  public: 'Public — listed, anyone can watch',
  unlisted: 'Unlisted — anyone with the link',
  private: 'Private — only you',
  subscribers: 'Subscribers — listed, subscribers watch',
};

/** Chapters as lines of "m:ss Title" (or h:mm:ss). */
export const chaptersText = (chapters: Chapter[]) => chapters.map((c) => `${duration(c.startSeconds)} ${c.title}`).join('\n');

/** Lines of "m:ss Title" as chapters, or the first line that is not one. */
export function parseChapters(text: string): Chapter[] | { error: string } {
  const out: Chapter[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\d{1,3}(?::\d{1,2}){0,2})\s+(.+)$/.exec(line);
    if (!m) return { error: `Line ${i + 1}: start it with a time, like "1:30 The chorus".` };
    const startSeconds = m[1]!.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
    out.push({ startSeconds, title: m[2]!.trim() });
  }
  return out;
}

/** A Date as the value of an <input type="datetime-local"> (local time, to the minute). */
const localInput = (iso: string | null) => {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

type Props = { vod: Vod & { posterCandidates?: string[] }; onSaved: (vod: Vod) => void; onDeleted: () => void };

export function VodEditor({ vod, onSaved, onDeleted }: Props) {
  const [title, setTitle] = useState(vod.title);
  const [description, setDescription] = useState(vod.description);
  const [category, setCategory] = useState(vod.category);
  const [tags, setTags] = useState(vod.tags.join(', '));
  const [language, setLanguage] = useState(vod.language);
  const [visibility, setVisibility] = useState<Visibility>(vod.visibility);
  const [publishAt, setPublishAt] = useState(localInput(vod.publishAt));
  const [chapters, setChapters] = useState(chaptersText(vod.chapters));
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, message: null });
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const bind = fieldBinder(errors, setErrors);

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const parsed = parseChapters(chapters);
    const fields: Record<string, string> = {};
    if ('error' in parsed) fields.chapters = parsed.error;
    else {
      const fault = chapterFault(parsed, vod.durationSeconds);
      if (fault) fields.chapters = fault;
    }
    const tagList = parseTags(tags);
    if (tagList.length > CHANNEL_LIMITS.tags) fields.tags = `At most ${CHANNEL_LIMITS.tags} tags.`;
    if (!title.trim()) fields.title = 'Give the video a title.';
    if (Object.keys(fields).length) return setErrors({ fields, message: null });
    const patch: VodPatch = {
      title: title.trim(),
      description,
      category: category.trim(),
      tags: tagList,
      language: language as VodPatch['language'],
      visibility,
      publishAt: publishAt ? new Date(publishAt).toISOString() : null,
      chapters: parsed as Chapter[],
    };
    setBusy(true);
    try {
      onSaved(await api.updateVod(vod.id, patch));
      setErrors({ fields: {}, message: null });
      setSaved(true);
    } catch (err) {
      setErrors(errorsFor(err, ['title', 'description', 'category', 'tags', 'language', 'visibility', 'publishAt', 'chapters']));
    } finally {
      setBusy(false);
    }
  };

  const poster = async (act: () => Promise<Vod>) => {
    try {
      onSaved(await act());
      setErrors({ fields: {}, message: null });
    } catch (err) {
      setErrors(errorsFor(err, []));
    }
  };

  return (
    <details class="panel vod-editor" data-testid="vod-editor">
      <summary>Edit video</summary>
      <form onSubmit={save} noValidate>
        <FormError message={errors.message} testid="vod-editor-error" />
        <Field label="Title" maxLength={VOD_LIMITS.title} {...bind('title', title, setTitle)} testid="edit-title" />
        <Field label="Description" textarea rows={4} maxLength={VOD_LIMITS.description} {...bind('description', description, setDescription)} testid="edit-description" />
        <div class="vod-editor-row">
          <Field label="Category" maxLength={CHANNEL_LIMITS.category} {...bind('category', category, setCategory)} testid="edit-category" />
          <Field label="Tags" hint="Separated by commas" {...bind('tags', tags, setTags)} testid="edit-tags" />
        </div>
        <div class="vod-editor-row">
          <div class="field">
            <label for="edit-language">Language</label>
            <select id="edit-language" value={language} onChange={(e) => setLanguage(e.currentTarget.value)} data-testid="edit-language">
              <option value="">Not set</option>
              {Object.entries(LANGUAGES).map(([code, name]) => (
                <option key={code} value={code}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="edit-visibility">Visibility</label>
            <select id="edit-visibility" value={visibility} onChange={(e) => setVisibility(e.currentTarget.value as Visibility)} data-testid="edit-visibility">
              {VISIBILITIES.map((v) => (
                <option key={v} value={v}>
                  {VISIBILITY_LABELS[v]}
                </option>
              ))}
            </select>
          </div>
          <Field label="Premiere" type="datetime-local" hint="Hidden until then; empty: now" {...bind('publishAt', publishAt, setPublishAt)} testid="edit-publish-at" />
        </div>
        <Field label="Chapters" textarea rows={4} hint='One a line: "0:00 Intro", "2:15 The interview"' {...bind('chapters', chapters, setChapters)} testid="edit-chapters" />
        <div class="vod-editor-actions">
          <Button type="submit" busy={busy} data-testid="edit-save">
            Save
          </Button>
          {saved && (
            <span class="muted" role="status" data-testid="edit-saved">
              Saved
            </span>
          )}
        </div>
      </form>

      <fieldset class="vod-poster-choice">
        <legend>Poster</legend>
        {!!vod.posterCandidates?.length && (
          <ul class="poster-frames">
            {vod.posterCandidates.map((url, i) => (
              <li key={url}>
                <button type="button" class="poster-frame" onClick={() => poster(() => api.updateVod(vod.id, { posterFrame: i + 1 }))} data-testid={`poster-frame-${i + 1}`}>
                  <img src={url} alt={`Frame ${i + 1}`} width={160} height={90} loading="lazy" />
                </button>
              </li>
            ))}
          </ul>
        )}
        <label class="btn btn-secondary btn-sm poster-upload">
          Upload an image
          <input
            type="file"
            class="sr-only"
            accept={AVATAR_TYPES.join(',')}
            data-testid="poster-upload"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) void poster(() => api.uploadPoster(vod.id, file));
            }}
          />
        </label>
      </fieldset>

      {vod.status !== 'recording' && (
        <div class="vod-editor-danger">
          <ConfirmButton
            label="Delete video"
            prompt="Delete this video and all of its files for good?"
            confirmLabel="Delete"
            onConfirm={async () => {
              await api.deleteVod(vod.id);
              onDeleted();
            }}
            testid="vod-delete"
          />
        </div>
      )}
    </details>
  );
}
