ALTER TABLE "error_groups" ADD COLUMN "regressed_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "last_ok_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "stuck_acknowledged_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "stuck_dismissed_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "abandoned_at" timestamp (6) with time zone;--> statement-breakpoint
CREATE INDEX "sessions_failed_idx" ON "sessions" USING btree ("last_seen_at","id") WHERE (coalesce(state, '') = 'error' or (state is null and last_error_code is not null and coalesce(last_ok_at <= last_error_at, true)));