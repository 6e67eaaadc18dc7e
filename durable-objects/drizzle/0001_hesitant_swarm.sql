CREATE TABLE `migrations` (
	`id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`database_id` text NOT NULL,
	`branch_id` text,
	`sql` text NOT NULL,
	`verify_sql` text,
	`parent_fingerprint` text,
	`diff` text,
	`verification` text,
	`last_error` text,
	`idempotency_key` text,
	`request_hash` text,
	`token_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`applied_at` integer,
	`discarded_at` integer
);
--> statement-breakpoint
CREATE INDEX `migrations_database` ON `migrations` (`database_id`);--> statement-breakpoint
CREATE INDEX `migrations_idempotency` ON `migrations` (`idempotency_key`);--> statement-breakpoint
ALTER TABLE `databases` ADD `last_used_at` integer;