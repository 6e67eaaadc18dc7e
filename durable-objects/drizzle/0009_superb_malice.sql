ALTER TABLE `account` ADD `abuse_pinned` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `account` ADD `abuse_signals` text;--> statement-breakpoint
ALTER TABLE `account` ADD `abuse_forgiven_at` integer;--> statement-breakpoint
ALTER TABLE `databases` ADD `connected_at` integer;--> statement-breakpoint
ALTER TABLE `databases` ADD `credentials_fetched_at` integer;