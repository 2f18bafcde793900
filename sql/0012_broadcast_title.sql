ALTER TABLE "channel" ADD COLUMN "next_title" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "channel" ADD COLUMN "next_category" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "live_session" ADD COLUMN "title" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "live_session" ADD COLUMN "category" text DEFAULT '' NOT NULL;