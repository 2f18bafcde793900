CREATE TABLE "live_session" (
	"id" uuid PRIMARY KEY NOT NULL,
	"channel_id" uuid NOT NULL,
	"source" text NOT NULL,
	"codecs" text[] DEFAULT '{}'::text[] NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"viewers" integer DEFAULT 0 NOT NULL,
	"peak_viewers" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "live_session" ADD CONSTRAINT "live_session_channel_id_channel_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channel"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "live_session_channel_idx" ON "live_session" USING btree ("channel_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "live_session_one_live_idx" ON "live_session" USING btree ("channel_id") WHERE "live_session"."ended_at" is null;