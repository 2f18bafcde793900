-- Typo tolerance by vocabulary (trigram similarity over search_word's distinct words, then full text for them) instead
-- of trigram matching against every document, which cost O(documents) for a common word.
CREATE TABLE "search_word" (
	"word" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
DROP INDEX "search_doc_names_trgm_idx";--> statement-breakpoint
CREATE INDEX "search_word_trgm_idx" ON "search_word" USING gin ("word" gin_trgm_ops);--> statement-breakpoint
CREATE FUNCTION search_doc_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_word (word)
  SELECT DISTINCT w FROM regexp_split_to_table(lower(NEW.names || ' ' || NEW.description), '[^[:alnum:]]+') AS w
  WHERE length(w) BETWEEN 3 AND 40
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER search_doc_words AFTER INSERT OR UPDATE ON search_doc FOR EACH ROW EXECUTE FUNCTION search_doc_words();
--> statement-breakpoint
INSERT INTO search_word (word)
SELECT DISTINCT w FROM search_doc, regexp_split_to_table(lower(names || ' ' || description), '[^[:alnum:]]+') AS w
WHERE length(w) BETWEEN 3 AND 40
ON CONFLICT DO NOTHING;
