-- Search (issue 7): pg_trgm for typo-tolerant matching; search_doc, the searchable documents; search_outbox, what the
-- index has not seen yet. Both are written only by the triggers at the end, in the transaction of the write.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE TABLE "search_doc" (
	"kind" text NOT NULL,
	"ref_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"channel_slug" text NOT NULL,
	"channel_title" text NOT NULL,
	"title" text NOT NULL,
	"description" text NOT NULL,
	"category" text NOT NULL,
	"tags" text[] NOT NULL,
	"keywords" text NOT NULL,
	"names" text GENERATED ALWAYS AS ("title" || ' ' || "channel_slug" || ' ' || "keywords") STORED NOT NULL,
	"live" boolean NOT NULL,
	"date" timestamp with time zone NOT NULL,
	"tsv" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', "title" || ' ' || replace("channel_slug", '-', ' ')), 'A') || setweight(to_tsvector('english', "keywords"), 'B') || setweight(to_tsvector('english', "description" || ' ' || CASE WHEN "kind" = 'vod' THEN "channel_title" ELSE '' END), 'C')) STORED NOT NULL,
	CONSTRAINT "search_doc_kind_ref_id_pk" PRIMARY KEY("kind","ref_id")
);
--> statement-breakpoint
CREATE TABLE "search_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"ref_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "search_doc_tsv_idx" ON "search_doc" USING gin ("tsv");--> statement-breakpoint
CREATE INDEX "search_doc_names_trgm_idx" ON "search_doc" USING gin ("names" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "search_doc_channel_idx" ON "search_doc" USING btree ("channel_id");--> statement-breakpoint
CREATE INDEX "search_doc_date_idx" ON "search_doc" USING btree ("date");--> statement-breakpoint
-- Brings the documents of one channel (p_channel) or of every channel (NULL) in line with the tables, and records each
-- one touched in the outbox when p_outbox. Idempotent: running it twice leaves the same rows.
CREATE FUNCTION search_refresh_channels(p_channel uuid, p_outbox boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_doc (kind, ref_id, channel_id, channel_slug, channel_title, title, description, category, tags, keywords, live, date)
  SELECT 'channel', c.id, c.id, c.slug, c.title, c.title, c.description, c.category, c.tags,
         c.category || ' ' || array_to_string(c.tags, ' '), l.id IS NOT NULL, coalesce(l.started_at, c.created_at)
  FROM channel c LEFT JOIN live_session l ON l.channel_id = c.id AND l.ended_at IS NULL
  WHERE p_channel IS NULL OR c.id = p_channel
  ON CONFLICT (kind, ref_id) DO UPDATE SET channel_slug = excluded.channel_slug, channel_title = excluded.channel_title,
    title = excluded.title, description = excluded.description, category = excluded.category, tags = excluded.tags,
    keywords = excluded.keywords, live = excluded.live, date = excluded.date;
  DELETE FROM search_doc d WHERE d.kind = 'channel' AND (p_channel IS NULL OR d.ref_id = p_channel)
    AND NOT EXISTS (SELECT 1 FROM channel c WHERE c.id = d.ref_id);
  IF p_outbox AND p_channel IS NOT NULL THEN
    INSERT INTO search_outbox (kind, ref_id) VALUES ('channel', p_channel);
  END IF;
END $$;
--> statement-breakpoint
-- The same for VoDs: one (p_vod), a channel's (p_channel), or all (both NULL). Failed recordings are not searchable.
CREATE FUNCTION search_refresh_vods(p_channel uuid, p_vod uuid, p_outbox boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_doc (kind, ref_id, channel_id, channel_slug, channel_title, title, description, category, tags, keywords, live, date)
  SELECT 'vod', v.id, c.id, c.slug, c.title, v.title, c.description, c.category, c.tags,
         c.category || ' ' || array_to_string(c.tags, ' '), v.status = 'recording', v.started_at
  FROM vod v JOIN channel c ON c.id = v.channel_id
  WHERE v.status <> 'failed' AND (p_vod IS NULL OR v.id = p_vod) AND (p_channel IS NULL OR v.channel_id = p_channel)
  ON CONFLICT (kind, ref_id) DO UPDATE SET channel_slug = excluded.channel_slug, channel_title = excluded.channel_title,
    title = excluded.title, description = excluded.description, category = excluded.category, tags = excluded.tags,
    keywords = excluded.keywords, live = excluded.live, date = excluded.date;
  DELETE FROM search_doc d WHERE d.kind = 'vod' AND (p_vod IS NULL OR d.ref_id = p_vod) AND (p_channel IS NULL OR d.channel_id = p_channel)
    AND NOT EXISTS (SELECT 1 FROM vod v WHERE v.id = d.ref_id AND v.status <> 'failed');
  IF p_outbox THEN
    IF p_vod IS NOT NULL THEN
      INSERT INTO search_outbox (kind, ref_id) VALUES ('vod', p_vod);
    ELSIF p_channel IS NOT NULL THEN
      INSERT INTO search_outbox (kind, ref_id) SELECT 'vod', v.id FROM vod v WHERE v.channel_id = p_channel;
    END IF;
  END IF;
END $$;
--> statement-breakpoint
CREATE FUNCTION search_channel_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM search_refresh_channels(OLD.id, true); -- its VoDs go by cascade, each through its own trigger
    RETURN NULL;
  END IF;
  PERFORM search_refresh_channels(NEW.id, true);
  -- a VoD's document carries its channel's slug, titles, category, tags and description
  IF TG_OP = 'UPDATE' THEN
    PERFORM search_refresh_vods(NEW.id, NULL, true);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION search_live_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_refresh_channels(CASE WHEN TG_OP = 'DELETE' THEN OLD.channel_id ELSE NEW.channel_id END, true);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION search_vod_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_refresh_vods(NULL, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, true);
  RETURN NULL;
END $$;
--> statement-breakpoint
-- only the columns a document is made of: an avatar upload or a viewer count does not touch the index
CREATE TRIGGER search_channel AFTER INSERT OR DELETE OR UPDATE OF slug, title, description, category, tags ON channel
  FOR EACH ROW EXECUTE FUNCTION search_channel_changed();
--> statement-breakpoint
CREATE TRIGGER search_live_session AFTER INSERT OR DELETE OR UPDATE OF ended_at ON live_session
  FOR EACH ROW EXECUTE FUNCTION search_live_session_changed();
--> statement-breakpoint
CREATE TRIGGER search_vod AFTER INSERT OR DELETE OR UPDATE OF title, status, started_at, channel_id ON vod
  FOR EACH ROW EXECUTE FUNCTION search_vod_changed();
--> statement-breakpoint
-- documents for what exists already
SELECT search_refresh_channels(NULL, false);
--> statement-breakpoint
SELECT search_refresh_vods(NULL, NULL, false);
