DROP INDEX "spans_start_time_idx";--> statement-breakpoint
CREATE INDEX "spans_start_time_brin" ON "spans" USING brin ("start_time");