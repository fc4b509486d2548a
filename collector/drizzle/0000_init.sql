CREATE TABLE "error_groups" (
	"fingerprint" text PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"category" text NOT NULL,
	"exception_type" text,
	"sample_message" text NOT NULL,
	"first_seen" timestamp (6) with time zone NOT NULL,
	"last_seen" timestamp (6) with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'open' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "errors" (
	"id" text PRIMARY KEY NOT NULL,
	"at" timestamp (6) with time zone NOT NULL,
	"session_id" text,
	"trace_id" text,
	"span_id" text,
	"service" text NOT NULL,
	"code" text NOT NULL,
	"category" text NOT NULL,
	"message" text NOT NULL,
	"technical_message" text,
	"exception_type" text,
	"stacktrace" text,
	"fingerprint" text NOT NULL,
	"timeout_kind" text,
	"http_status" integer,
	"upstream_status" integer,
	"upstream_type" text,
	"retryable" text NOT NULL,
	"attributes" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scenario_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"scenario_id" text NOT NULL,
	"passed" boolean NOT NULL,
	"detected_code" text,
	"detected_state" text,
	"detect_ms" integer,
	"session_id" text,
	"detail" text NOT NULL,
	"extra" jsonb,
	"at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"service" text NOT NULL,
	"agent" text,
	"provider" text,
	"model" text,
	"state" text,
	"status_message" text,
	"state_at" timestamp (6) with time zone,
	"stuck" boolean DEFAULT false NOT NULL,
	"stuck_kind" text,
	"stuck_since" timestamp (6) with time zone,
	"stuck_after_ms" integer,
	"last_error_code" text,
	"last_error_category" text,
	"last_error_message" text,
	"last_error_at" timestamp (6) with time zone,
	"started_at" timestamp (6) with time zone NOT NULL,
	"last_seen_at" timestamp (6) with time zone NOT NULL,
	"ended_at" timestamp (6) with time zone,
	"error_count" integer DEFAULT 0 NOT NULL,
	"span_count" integer DEFAULT 0 NOT NULL,
	"last_trace_id" text,
	"last_heartbeat_at" timestamp (6) with time zone,
	"last_heartbeat" jsonb,
	"latest_output" text,
	"latest_output_at" timestamp (6) with time zone,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "spans" (
	"trace_id" text NOT NULL,
	"span_id" text NOT NULL,
	"parent_span_id" text,
	"session_id" text,
	"service" text NOT NULL,
	"name" text NOT NULL,
	"span_type" text NOT NULL,
	"kind" smallint NOT NULL,
	"start_time" timestamp (6) with time zone NOT NULL,
	"end_time" timestamp (6) with time zone NOT NULL,
	"duration_ms" double precision NOT NULL,
	"status_code" smallint NOT NULL,
	"status_message" text,
	"error_code" text,
	"attributes" jsonb NOT NULL,
	"events" jsonb NOT NULL,
	"resource" jsonb NOT NULL,
	"received_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "spans_trace_id_span_id_pk" PRIMARY KEY("trace_id","span_id")
);
--> statement-breakpoint
CREATE INDEX "error_groups_last_seen_idx" ON "error_groups" USING btree ("last_seen");--> statement-breakpoint
CREATE INDEX "error_groups_code_idx" ON "error_groups" USING btree ("code");--> statement-breakpoint
CREATE INDEX "errors_at_idx" ON "errors" USING btree ("at");--> statement-breakpoint
CREATE INDEX "errors_code_at_idx" ON "errors" USING btree ("code","at");--> statement-breakpoint
CREATE INDEX "errors_category_at_idx" ON "errors" USING btree ("category","at");--> statement-breakpoint
CREATE INDEX "errors_session_idx" ON "errors" USING btree ("session_id","at");--> statement-breakpoint
CREATE INDEX "errors_timeout_kind_idx" ON "errors" USING btree ("timeout_kind","at");--> statement-breakpoint
CREATE INDEX "errors_fingerprint_idx" ON "errors" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "scenario_runs_scenario_at_idx" ON "scenario_runs" USING btree ("scenario_id","at");--> statement-breakpoint
CREATE INDEX "sessions_last_seen_idx" ON "sessions" USING btree ("last_seen_at","id");--> statement-breakpoint
CREATE INDEX "sessions_state_idx" ON "sessions" USING btree ("state","last_seen_at");--> statement-breakpoint
CREATE INDEX "sessions_stuck_idx" ON "sessions" USING btree ("stuck","last_seen_at");--> statement-breakpoint
CREATE INDEX "sessions_error_code_idx" ON "sessions" USING btree ("last_error_code","last_seen_at");--> statement-breakpoint
CREATE INDEX "sessions_service_idx" ON "sessions" USING btree ("service","last_seen_at");--> statement-breakpoint
CREATE INDEX "sessions_trace_idx" ON "sessions" USING btree ("last_trace_id");--> statement-breakpoint
CREATE INDEX "spans_session_time_idx" ON "spans" USING btree ("session_id","start_time");--> statement-breakpoint
CREATE INDEX "spans_start_time_idx" ON "spans" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "spans_error_code_idx" ON "spans" USING btree ("error_code","start_time") WHERE "spans"."error_code" is not null;