CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`ttl_seconds` integer NOT NULL,
	`labels` text NOT NULL,
	`token_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_heartbeat_at` integer,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `sessions_state_expires` ON `sessions` (`state`,`expires_at`);