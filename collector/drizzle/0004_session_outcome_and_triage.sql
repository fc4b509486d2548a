ALTER TABLE "error_groups" ADD COLUMN "regressed_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "last_ok_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "stuck_acknowledged_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "stuck_dismissed_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "abandoned_at" timestamp (6) with time zone;