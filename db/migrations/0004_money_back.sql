CREATE TABLE `disputes` (
	`id` text PRIMARY KEY NOT NULL,
	`payment_id` text,
	`charge_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `payment_id` text;--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `stripe_object` text;--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `charge_amount_minor` integer;--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `seq` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_transactions_payment_seq` ON `ledger_transactions` (`payment_id`,`seq`);--> statement-breakpoint
ALTER TABLE `payment_lines` ADD `parts` text;--> statement-breakpoint
ALTER TABLE `payment_lines` ADD `fee_policy` text DEFAULT 'proportional' NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `charge_amount_minor` integer;--> statement-breakpoint
ALTER TABLE `postings` ADD `role` text;--> statement-breakpoint
-- Postings written before roles: their role follows from their account (a party's posting on a payment is its share).
UPDATE `postings` SET `role` = CASE
  WHEN `account` = 'stripe:customers' THEN 'customer'
  WHEN `account` = 'stripe:fees' THEN 'fee'
  WHEN `account` = 'tax:collected' THEN 'tax'
  WHEN `account` = 'coop:shipping' THEN 'shipping'
  WHEN `account` = 'coop:fee_absorbed' THEN 'fee_absorbed'
  WHEN `account` LIKE 'party:%' THEN 'share'
END WHERE `role` IS NULL;--> statement-breakpoint
-- Payments posted before: what was charged, when Stripe's amounts were in one currency.
UPDATE `payments` SET `charge_amount_minor` = `presentment_amount_minor` WHERE `charge_amount_minor` IS NULL AND `presentment_currency` = `currency`;
