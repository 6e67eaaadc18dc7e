CREATE TABLE `dashboard_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`lookup` text NOT NULL,
	`hash` text NOT NULL,
	`token_id` text,
	`csrf` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `dashboard_sessions_lookup` ON `dashboard_sessions` (`lookup`);--> statement-breakpoint
CREATE TABLE `sign_in_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`lookup` text NOT NULL,
	`hash` text NOT NULL,
	`issued_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `sign_in_codes_lookup` ON `sign_in_codes` (`lookup`);