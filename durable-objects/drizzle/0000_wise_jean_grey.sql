CREATE TABLE `account` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL,
	`policy` text NOT NULL,
	`abuse_state` text NOT NULL,
	`abuse_reason` text,
	`abuse_since` integer
);
--> statement-breakpoint
CREATE TABLE `databases` (
	`id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`kind` text NOT NULL,
	`parent_id` text,
	`region` text NOT NULL,
	`depth` integer NOT NULL,
	`provider_account` text,
	`provider_project_id` text,
	`provider_branch_id` text,
	`provider_endpoint_id` text,
	`role_name` text NOT NULL,
	`database_name` text NOT NULL,
	`host` text,
	`password_sealed` text,
	`labels` text NOT NULL,
	`session_id` text,
	`token_id` text,
	`ttl_seconds` integer NOT NULL,
	`expires_at` integer,
	`kept` integer NOT NULL,
	`reserved_micro_usd` integer NOT NULL,
	`created_at` integer NOT NULL,
	`ready_at` integer,
	`deleted_at` integer,
	`last_error` text,
	`delete_attempts` integer NOT NULL,
	`next_attempt_at` integer
);
--> statement-breakpoint
CREATE INDEX `databases_state` ON `databases` (`state`);--> statement-breakpoint
CREATE INDEX `databases_created` ON `databases` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `databases_parent` ON `databases` (`parent_id`);--> statement-breakpoint
CREATE INDEX `databases_session` ON `databases` (`session_id`);--> statement-breakpoint
CREATE INDEX `databases_expires` ON `databases` (`expires_at`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`database_id` text,
	`token_id` text,
	`data` text
);
--> statement-breakpoint
CREATE INDEX `events_database` ON `events` (`database_id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`request_hash` text NOT NULL,
	`database_id` text NOT NULL,
	`response_sealed` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idempotency_expires` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE INDEX `idempotency_database` ON `idempotency_keys` (`database_id`);--> statement-breakpoint
CREATE TABLE `rate_bucket` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`tokens` real NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `spend` (
	`month` text PRIMARY KEY NOT NULL,
	`spent_micro_usd` integer NOT NULL,
	`reserved_micro_usd` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`lookup` text NOT NULL,
	`hash` text NOT NULL,
	`name` text NOT NULL,
	`scopes` text NOT NULL,
	`expires_at` integer,
	`max_database_ttl_seconds` integer,
	`created_at` integer NOT NULL,
	`created_by` text,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE INDEX `tokens_lookup` ON `tokens` (`lookup`);