ALTER TABLE `sessions` ADD `spend_limit_micro_usd` integer;--> statement-breakpoint
ALTER TABLE `tokens` ADD `monthly_spend_limit_micro_usd` integer;