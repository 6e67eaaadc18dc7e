CREATE TABLE `provider_action_bucket` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`tokens` real NOT NULL,
	`updated_at` integer NOT NULL
);
