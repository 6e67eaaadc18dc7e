CREATE TABLE `bindings` (
	`id` text PRIMARY KEY NOT NULL,
	`database_id` text NOT NULL,
	`type` text NOT NULL,
	`state` text NOT NULL,
	`cf_account_id` text NOT NULL,
	`script_name` text,
	`name` text NOT NULL,
	`pooled` integer NOT NULL,
	`config_name` text,
	`hyperdrive_id` text,
	`token_id` text,
	`created_at` integer NOT NULL,
	`removed_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`update_pending` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `bindings_database` ON `bindings` (`database_id`);--> statement-breakpoint
CREATE INDEX `bindings_state` ON `bindings` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `cloudflare_token` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`token_sealed` text NOT NULL,
	`updated_at` integer NOT NULL
);
