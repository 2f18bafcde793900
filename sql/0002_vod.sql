CREATE TABLE "vod" (
	"id" uuid PRIMARY KEY NOT NULL,
	"channel_id" uuid NOT NULL,
	"live_session_id" uuid,
	"title" text NOT NULL,
	"status" text DEFAULT 'recording' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"duration_ms" integer,
	"size_bytes" bigint DEFAULT 0 NOT NULL,
	"codecs" text[] DEFAULT '{}'::text[] NOT NULL,
	"storage_prefix" text NOT NULL,
	"poster_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "vod" ADD CONSTRAINT "vod_channel_id_channel_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channel"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vod" ADD CONSTRAINT "vod_live_session_id_live_session_id_fk" FOREIGN KEY ("live_session_id") REFERENCES "public"."live_session"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "vod_channel_idx" ON "vod" USING btree ("channel_id","started_at");--> statement-breakpoint
CREATE INDEX "vod_status_idx" ON "vod" USING btree ("status");