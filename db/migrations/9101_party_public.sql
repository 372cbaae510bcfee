-- Written by hand (issue 11); the number is a placeholder, renumbered with drizzle's snapshot at merge.
-- A contributor is named on the public page only once they choose to be (false until then).
ALTER TABLE `parties` ADD `public` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- The public page sums a period's payments and money going back.
CREATE INDEX `payments_currency_paid_at` ON `payments` (`currency`,`paid_at_s`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_kind_created` ON `ledger_transactions` (`kind`,`created_at_ms`);
