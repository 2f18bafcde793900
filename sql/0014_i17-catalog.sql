CREATE TABLE "watch_position" (
	"user_id" text NOT NULL,
	"vod_id" uuid NOT NULL,
	"position_seconds" real NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watch_position_user_id_vod_id_pk" PRIMARY KEY("user_id","vod_id")
);
--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "source" text DEFAULT 'broadcast' NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "category" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "language" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "visibility" text DEFAULT 'public' NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "publish_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "chapters" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "view_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "watch_position" ADD CONSTRAINT "watch_position_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watch_position" ADD CONSTRAINT "watch_position_vod_id_vod_id_fk" FOREIGN KEY ("vod_id") REFERENCES "public"."vod"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "watch_position_vod_idx" ON "watch_position" USING btree ("vod_id");