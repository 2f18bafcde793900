CREATE TABLE "watch_position" (
	"user_id" text NOT NULL,
	"vod_id" uuid NOT NULL,
	"position_seconds" real NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watch_position_user_id_vod_id_pk" PRIMARY KEY("user_id","vod_id")
);
--> statement-breakpoint
ALTER TABLE "watch_position" ADD CONSTRAINT "watch_position_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watch_position" ADD CONSTRAINT "watch_position_vod_id_vod_id_fk" FOREIGN KEY ("vod_id") REFERENCES "public"."vod"("id") ON DELETE cascade ON UPDATE no action;