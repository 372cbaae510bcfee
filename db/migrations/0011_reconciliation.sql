ALTER TABLE `ledger_transactions` ADD `stripe_created_s` integer;--> statement-breakpoint
UPDATE `ledger_transactions` SET `stripe_created_s` = (SELECT `paid_at_s` FROM `payments` WHERE `payments`.`transaction_id` = `ledger_transactions`.`id`) WHERE `kind` = 'payment';--> statement-breakpoint
UPDATE `ledger_transactions` SET `stripe_created_s` = `created_at_ms` / 1000 WHERE `stripe_created_s` IS NULL AND `kind` IN ('refund', 'refund_failed', 'dispute_withdrawn', 'dispute_reinstated', 'payout');--> statement-breakpoint
CREATE INDEX `ledger_transactions_stripe_day` ON `ledger_transactions` (`stripe_created_s`);--> statement-breakpoint
CREATE TABLE `reconciliations` (
	`date` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`run_id` text NOT NULL,
	`started_by` text NOT NULL,
	`started_at_ms` integer NOT NULL,
	`finished_at_ms` integer,
	`stripe_pages` integer DEFAULT 0 NOT NULL,
	`stripe_count` integer DEFAULT 0 NOT NULL,
	`ledger_count` integer,
	`matched` integer,
	`outside` integer,
	`totals` text,
	`differences_total` integer,
	`reason` text
);
--> statement-breakpoint
CREATE TABLE `reconciliation_differences` (
	`date` text NOT NULL,
	`position` integer NOT NULL,
	`code` text NOT NULL,
	`body` text NOT NULL,
	PRIMARY KEY(`date`, `position`)
);
