ALTER TABLE `databases` ADD `spent_micro_usd` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `databases` ADD `spent_as_of` integer;