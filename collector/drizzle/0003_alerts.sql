CREATE TABLE "alert_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"destination_id" text NOT NULL,
	"rule_id" text,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone NOT NULL,
	"next_attempt_at" timestamp (6) with time zone,
	"give_up_at" timestamp (6) with time zone NOT NULL,
	"last_attempt_at" timestamp (6) with time zone,
	"sent_at" timestamp (6) with time zone,
	"lease_until" timestamp (6) with time zone,
	"lease_token" text,
	"response_status" integer,
	"response_body" text,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "alert_destinations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"url" text NOT NULL,
	"secret" text,
	"min_interval_ms" integer DEFAULT 0 NOT NULL,
	"next_send_at" timestamp (6) with time zone,
	"managed_by" text DEFAULT 'api' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rule_id" text NOT NULL,
	"key" text NOT NULL,
	"status" text NOT NULL,
	"at" timestamp (6) with time zone NOT NULL,
	"facts" jsonb NOT NULL,
	"dedup_key" text,
	"dispatched_at" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"destination_ids" text[] NOT NULL,
	"filters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"threshold" integer,
	"window_ms" integer,
	"states" text[],
	"throttle_ms" integer NOT NULL,
	"group_wait_ms" integer NOT NULL,
	"muted" boolean DEFAULT false NOT NULL,
	"managed_by" text DEFAULT 'api' NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_states" (
	"rule_id" text NOT NULL,
	"key" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp (6) with time zone NOT NULL,
	"ended_at" timestamp (6) with time zone,
	"notified" boolean NOT NULL,
	"last_notified_at" timestamp (6) with time zone,
	"facts" jsonb NOT NULL,
	CONSTRAINT "alert_states_rule_id_key_pk" PRIMARY KEY("rule_id","key")
);
--> statement-breakpoint
CREATE INDEX "alert_deliveries_due_idx" ON "alert_deliveries" USING btree ("next_attempt_at") WHERE status in ('pending', 'retrying');--> statement-breakpoint
CREATE INDEX "alert_deliveries_created_idx" ON "alert_deliveries" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "alert_deliveries_destination_idx" ON "alert_deliveries" USING btree ("destination_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_events_dedup_key_idx" ON "alert_events" USING btree ("dedup_key");--> statement-breakpoint
CREATE INDEX "alert_events_undispatched_idx" ON "alert_events" USING btree ("rule_id","id") WHERE dispatched_at is null;--> statement-breakpoint
CREATE INDEX "alert_states_firing_idx" ON "alert_states" USING btree ("rule_id") WHERE status = 'firing';