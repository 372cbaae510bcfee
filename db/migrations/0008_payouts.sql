CREATE TABLE `payout_items` (
	`run_id` text NOT NULL,
	`party_id` text NOT NULL,
	`currency` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`method` text NOT NULL,
	`status` text NOT NULL,
	`stripe_account_id` text,
	`source_transaction` text,
	`transfer_id` text,
	`reason` text,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`run_id`, `party_id`, `currency`),
	FOREIGN KEY (`run_id`) REFERENCES `payout_runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `payout_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`started_by` text NOT NULL,
	`started_at_ms` integer NOT NULL,
	`finished_at_ms` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_runs_one_running` ON `payout_runs` (`status`) WHERE "status" = 'running';--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `available_at_ms` integer;--> statement-breakpoint
ALTER TABLE `parties` ADD `stripe_account_id` text;--> statement-breakpoint
ALTER TABLE `parties` ADD `payout_minimum_minor` integer DEFAULT 0 NOT NULL;
