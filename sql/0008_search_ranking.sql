-- Search ranking in tiers (see shared/search/PostgresSearch.ts): tsv_title (title and a channel's slug) and tsv_names
-- (those plus category and tags) find each tier's matches; a VoD is found by its channel's title but ranked on its own
-- words (weight D); btree indexes give each tier live-first-then-newest order without sorting every match. Dropping tsv
-- dropped its GIN index: created again at the end.
DROP INDEX "search_doc_date_idx";--> statement-breakpoint
ALTER TABLE "search_doc" drop column "tsv";--> statement-breakpoint
ALTER TABLE "search_doc" ADD COLUMN "tsv" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', "title" || CASE WHEN "kind" = 'channel' THEN ' ' || replace("channel_slug", '-', ' ') ELSE '' END), 'A') || setweight(to_tsvector('english', "keywords"), 'B') || setweight(to_tsvector('english', "description"), 'C') || setweight(to_tsvector('english', CASE WHEN "kind" = 'vod' THEN "channel_title" || ' ' || replace("channel_slug", '-', ' ') ELSE '' END), 'D')) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "search_doc" ADD COLUMN "tsv_title" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', "title" || CASE WHEN "kind" = 'channel' THEN ' ' || replace("channel_slug", '-', ' ') ELSE '' END)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "search_doc" ADD COLUMN "tsv_names" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', "title" || CASE WHEN "kind" = 'channel' THEN ' ' || replace("channel_slug", '-', ' ') ELSE '' END), 'A') || setweight(to_tsvector('english', "keywords"), 'B')) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "search_doc_title_idx" ON "search_doc" USING gin ("tsv_title");--> statement-breakpoint
CREATE INDEX "search_doc_names_idx" ON "search_doc" USING gin ("tsv_names");--> statement-breakpoint
CREATE INDEX "search_doc_category_idx" ON "search_doc" USING btree (lower("category"),"kind","live" DESC NULLS LAST,"date" DESC NULLS LAST,"ref_id");--> statement-breakpoint
CREATE INDEX "search_doc_recent_idx" ON "search_doc" USING btree ("live" DESC NULLS LAST,"date" DESC NULLS LAST,"ref_id");--> statement-breakpoint
CREATE INDEX "search_doc_tsv_idx" ON "search_doc" USING gin ("tsv");
