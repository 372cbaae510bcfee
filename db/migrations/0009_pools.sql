CREATE TABLE `pool_close_members` (
	`pool_id` text NOT NULL,
	`period` text NOT NULL,
	`currency` text NOT NULL,
	`party_id` text NOT NULL,
	`declared_minor` integer,
	`declared_auto` integer NOT NULL,
	`cap_minor` integer,
	`need_minor` integer NOT NULL,
	`paid_minor` integer NOT NULL,
	`topup_minor` integer NOT NULL,
	`throttled` integer NOT NULL,
	PRIMARY KEY(`pool_id`, `period`, `currency`, `party_id`)
);
--> statement-breakpoint
CREATE TABLE `pool_closes` (
	`pool_id` text NOT NULL,
	`period` text NOT NULL,
	`currency` text NOT NULL,
	`seq` integer NOT NULL,
	`period_end_ms` integer NOT NULL,
	`income_minor` integer NOT NULL,
	`leftover_minor` integer NOT NULL,
	`leftover_to` text,
	`carried_minor` integer NOT NULL,
	`topups_minor` integer NOT NULL,
	`transaction_id` text,
	`closed_by` text NOT NULL,
	`closed_at_ms` integer NOT NULL,
	PRIMARY KEY(`pool_id`, `period`, `currency`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pool_closes_seq` ON `pool_closes` (`pool_id`,`currency`,`seq`);--> statement-breakpoint
CREATE TABLE `pool_members` (
	`pool_id` text NOT NULL,
	`party_id` text NOT NULL,
	`joined_at_ms` integer NOT NULL,
	PRIMARY KEY(`pool_id`, `party_id`),
	FOREIGN KEY (`pool_id`) REFERENCES `pools`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`party_id`) REFERENCES `parties`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `pool_members_party` ON `pool_members` (`party_id`);--> statement-breakpoint
CREATE TABLE `pool_need_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pool_id` text NOT NULL,
	`party_id` text NOT NULL,
	`currency` text NOT NULL,
	`from_minor` integer,
	`from_auto` integer NOT NULL,
	`to_minor` integer,
	`to_auto` integer NOT NULL,
	`actor` text NOT NULL,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pool_need_changes_pool` ON `pool_need_changes` (`pool_id`,`at_ms`);--> statement-breakpoint
CREATE TABLE `pool_needs` (
	`pool_id` text NOT NULL,
	`party_id` text NOT NULL,
	`currency` text NOT NULL,
	`need_minor` integer,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`pool_id`, `party_id`, `currency`)
);
--> statement-breakpoint
CREATE TABLE `pools` (
	`id` text PRIMARY KEY NOT NULL,
	`period` text NOT NULL,
	`floor_minor` integer,
	`leftover_to` text,
	`solidarity_minimum_minor` integer,
	`solidarity_budget_minor` integer DEFAULT 0 NOT NULL,
	`revision` integer DEFAULT 1 NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`id`) REFERENCES `parties`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `party_id` text;