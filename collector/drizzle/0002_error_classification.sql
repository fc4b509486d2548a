ALTER TABLE "errors" ADD COLUMN "classifier_rule" text;--> statement-breakpoint
ALTER TABLE "errors" ADD COLUMN "classifier_signal" text;