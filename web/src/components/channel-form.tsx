// The channel fields form, used to create a channel (with a slug suggested from the title) and to edit one.
import { useState } from 'preact/hooks';
import { ApiError, type Channel, type ChannelInput } from '../api.ts';
import { LIMITS, validateChannel } from '../channel-rules.ts';
import { SLUG_MAX } from '../../../shared/bounds.ts';
import { parseTags, slugify } from '../format.ts';
import { Button, errorsFor, Field, focusFirstInvalid, FormError, withoutField, type FormErrors } from './form.tsx';

const FIELDS = ['slug', 'title', 'description', 'category', 'tags'];

type Props =
  | { mode: 'create'; onSubmit: (input: ChannelInput) => Promise<void>; onCancel?: () => void; channel?: undefined }
  | { mode: 'edit'; channel: Channel; onSubmit: (patch: Partial<ChannelInput>) => Promise<void>; onCancel?: undefined };

export function ChannelForm(props: Props) {
  const initial = props.channel;
  const prefix = props.mode === 'create' ? 'create' : 'edit';
  const [title, setTitle] = useState(initial?.title ?? '');
  const [slug, setSlug] = useState(initial?.slug ?? '');
  const [slugTouched, setSlugTouched] = useState(false);
  const [description, setDescription] = useState(initial?.description ?? '');
  const [category, setCategory] = useState(initial?.category ?? '');
  const [tags, setTags] = useState(initial?.tags.join(', ') ?? '');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, message: null });

  const clear = (name: string) => setErrors((e) => withoutField(e, name));

  const onTitle = (v: string) => {
    setTitle(v);
    setSaved(false);
    clear('title');
    if (props.mode === 'create' && !slugTouched) {
      setSlug(slugify(v));
      clear('slug');
    }
  };

  const draft = { title: title.trim(), description, category: category.trim(), tags: parseTags(tags) };
  const patch: Partial<ChannelInput> = {};
  if (props.mode === 'edit') {
    const c = props.channel;
    if (draft.title !== c.title) patch.title = draft.title;
    if (draft.description !== c.description) patch.description = draft.description;
    if (draft.category !== c.category) patch.category = draft.category;
    if (draft.tags.join(',') !== c.tags.join(',')) patch.tags = draft.tags;
  }
  const dirty = props.mode === 'create' || Object.keys(patch).length > 0;

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const fields = validateChannel(props.mode === 'create' ? { ...draft, slug } : draft);
    if (Object.keys(fields).length) {
      setErrors({ fields, message: null });
      return focusFirstInvalid(form);
    }
    setBusy(true);
    setSaved(false);
    setErrors({ fields: {}, message: null });
    try {
      if (props.mode === 'create') await props.onSubmit({ ...draft, slug });
      else {
        await props.onSubmit(patch);
        setSaved(true);
      }
    } catch (err) {
      const found = errorsFor(err, FIELDS);
      // A taken slug comes back as a plain 409: show it next to the slug field.
      if (props.mode === 'create' && err instanceof ApiError && err.status === 409 && !found.fields.slug) {
        setErrors({ fields: { ...found.fields, slug: err.message }, message: null });
      } else setErrors(found);
      focusFirstInvalid(form);
    } finally {
      setBusy(false);
    }
  };

  const change = (name: string, set: (v: string) => void) => (e: { currentTarget: { value: string } }) => {
    set(e.currentTarget.value);
    setSaved(false);
    clear(name);
  };

  return (
    <form class="channel-form" onSubmit={submit} noValidate data-testid={props.mode === 'create' ? 'create-channel-form' : 'channel-edit-form'}>
      <FormError message={errors.message} />
      <div class="form-grid">
        <Field
          label="Title"
          name="title"
          testid={`${prefix}-title`}
          required
          maxLength={LIMITS.title}
          placeholder="Night Owl Radio"
          value={title}
          onInput={(e) => onTitle(e.currentTarget.value)}
          error={errors.fields.title}
        />
        {props.mode === 'create' && (
          <Field
            label="Address"
            name="slug"
            testid={`${prefix}-slug`}
            required
            maxLength={SLUG_MAX}
            autocapitalize="off"
            spellcheck={false}
            placeholder="night-owl-radio"
            value={slug}
            onInput={(e) => {
              setSlugTouched(true);
              clear('slug');
              setSlug(e.currentTarget.value.toLowerCase());
            }}
            error={errors.fields.slug}
            hint={
              <>
                Your channel lives at <code>/c/{slug || '…'}</code>. 3–32 lowercase letters, digits and hyphens; it cannot be
                changed here later.
              </>
            }
          />
        )}
        <Field
          label="Category"
          name="category"
          testid={`${prefix}-category`}
          maxLength={LIMITS.category}
          placeholder="Music, Gaming, Talk…"
          value={category}
          onInput={change('category', setCategory)}
          error={errors.fields.category}
        />
        <Field
          label="Tags"
          name="tags"
          testid={`${prefix}-tags`}
          placeholder="lofi, chill, late night"
          value={tags}
          onInput={change('tags', setTags)}
          error={errors.fields.tags}
          hint={`Separate with commas; up to ${LIMITS.tags}.`}
        />
        <Field
          textarea
          label="Description"
          name="description"
          testid={`${prefix}-description`}
          rows={4}
          maxLength={LIMITS.description}
          placeholder="What do you stream, and when?"
          value={description}
          onInput={change('description', setDescription)}
          error={errors.fields.description}
        />
      </div>
      <div class="row form-actions">
        <Button type="submit" busy={busy} disabled={!dirty} data-testid={props.mode === 'create' ? 'create-channel-submit' : 'channel-save'}>
          {props.mode === 'create' ? 'Create channel' : 'Save changes'}
        </Button>
        {props.onCancel && (
          <Button variant="ghost" onClick={props.onCancel} data-testid="create-channel-cancel">
            Cancel
          </Button>
        )}
        {saved && !dirty && (
          <span class="ok small" role="status" data-testid="channel-saved">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}
