ALTER TABLE `databases` ADD `claim_request_id` text;--> statement-breakpoint
ALTER TABLE `databases` ADD `claim_url` text;--> statement-breakpoint
ALTER TABLE `databases` ADD `claim_expires_at` integer;