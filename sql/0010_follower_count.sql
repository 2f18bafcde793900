ALTER TABLE "channel" ADD COLUMN "follower_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE "channel" c SET "follower_count" = f.n FROM (SELECT "channel_id", count(*)::int AS n FROM "follow" GROUP BY "channel_id") f WHERE f."channel_id" = c."id";--> statement-breakpoint
-- One update per channel per statement (not per row): a bulk insert of follows touches each channel once.
CREATE FUNCTION follow_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "channel" c SET "follower_count" = c."follower_count" + a.n
  FROM (SELECT "channel_id", count(*)::int AS n FROM added GROUP BY "channel_id") a WHERE a."channel_id" = c."id";
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION follow_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "channel" c SET "follower_count" = greatest(0, c."follower_count" - r.n)
  FROM (SELECT "channel_id", count(*)::int AS n FROM removed GROUP BY "channel_id") r WHERE r."channel_id" = c."id";
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER follow_count_insert AFTER INSERT ON "follow" REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION follow_count_added();--> statement-breakpoint
CREATE TRIGGER follow_count_delete AFTER DELETE ON "follow" REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION follow_count_removed();
