-- Custom (not generated): subscribers_only becomes visibility 'subscribers' before 0016 drops the column; VoD search
-- documents carry the VoD's own description, category and tags (the channel's when it has none) and only listed
-- VoDs (public, subscribers) have one; a scheduled premiere's document is dated at its publish time, and search
-- leaves out documents dated in the future (shared/search), so it appears then without a job.
UPDATE "vod" SET "visibility" = 'subscribers' WHERE "subscribers_only";
--> statement-breakpoint
CREATE OR REPLACE FUNCTION search_refresh_vods(p_channel uuid, p_vod uuid, p_outbox boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_doc (kind, ref_id, channel_id, channel_slug, channel_title, title, description, category, tags, keywords, live, date)
  SELECT 'vod', v.id, c.id, c.slug, c.title, v.title,
         CASE WHEN v.description <> '' THEN v.description ELSE c.description END,
         CASE WHEN v.category <> '' THEN v.category ELSE c.category END,
         CASE WHEN cardinality(v.tags) > 0 THEN v.tags ELSE c.tags END,
         (CASE WHEN v.category <> '' THEN v.category ELSE c.category END) || ' ' || array_to_string(CASE WHEN cardinality(v.tags) > 0 THEN v.tags ELSE c.tags END, ' '),
         v.status = 'recording', greatest(v.started_at, coalesce(v.publish_at, v.started_at))
  FROM vod v JOIN channel c ON c.id = v.channel_id
  WHERE v.status IN ('recording', 'ready') AND v.visibility IN ('public', 'subscribers')
    AND (p_vod IS NULL OR v.id = p_vod) AND (p_channel IS NULL OR v.channel_id = p_channel)
  ON CONFLICT (kind, ref_id) DO UPDATE SET channel_slug = excluded.channel_slug, channel_title = excluded.channel_title,
    title = excluded.title, description = excluded.description, category = excluded.category, tags = excluded.tags,
    keywords = excluded.keywords, live = excluded.live, date = excluded.date;
  DELETE FROM search_doc d WHERE d.kind = 'vod' AND (p_vod IS NULL OR d.ref_id = p_vod) AND (p_channel IS NULL OR d.channel_id = p_channel)
    AND NOT EXISTS (SELECT 1 FROM vod v WHERE v.id = d.ref_id AND v.status IN ('recording', 'ready') AND v.visibility IN ('public', 'subscribers'));
  IF p_outbox THEN
    IF p_vod IS NOT NULL THEN
      INSERT INTO search_outbox (kind, ref_id) VALUES ('vod', p_vod);
    ELSIF p_channel IS NOT NULL THEN
      INSERT INTO search_outbox (kind, ref_id) SELECT 'vod', v.id FROM vod v WHERE v.channel_id = p_channel;
    END IF;
  END IF;
END $$;
--> statement-breakpoint
DROP TRIGGER search_vod ON vod;
--> statement-breakpoint
CREATE TRIGGER search_vod AFTER INSERT OR DELETE OR UPDATE OF title, status, started_at, channel_id, description, category, tags, visibility, publish_at ON vod
  FOR EACH ROW EXECUTE FUNCTION search_vod_changed();
--> statement-breakpoint
SELECT search_refresh_vods(NULL, NULL, false);
