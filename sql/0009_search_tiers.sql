-- Search tiers on separate columns (title; category and tags; the rest) instead of "tsv but not the title", whose
-- row estimates were wrong enough to send a tier into a scan of the whole table; an index for a one-word query's exact
-- title; fresh statistics for the new expressions.
DROP INDEX "search_doc_names_idx";--> statement-breakpoint
ALTER TABLE "search_doc" ADD COLUMN "tsv_keywords" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', "keywords")) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "search_doc" ADD COLUMN "tsv_rest" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', "description" || CASE WHEN "kind" = 'vod' THEN ' ' || "channel_title" || ' ' || replace("channel_slug", '-', ' ') ELSE '' END)) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "search_doc_exact_title_idx" ON "search_doc" USING btree (lower("title"));--> statement-breakpoint
CREATE INDEX "search_doc_keywords_idx" ON "search_doc" USING gin ("tsv_keywords");--> statement-breakpoint
CREATE INDEX "search_doc_rest_idx" ON "search_doc" USING gin ("tsv_rest");--> statement-breakpoint
ALTER TABLE "search_doc" DROP COLUMN "tsv_names";--> statement-breakpoint
ANALYZE search_doc;
