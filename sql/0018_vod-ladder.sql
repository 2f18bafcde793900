ALTER TABLE "vod" ADD COLUMN "renditions" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "vod" ADD COLUMN "storyboard" boolean DEFAULT false NOT NULL;