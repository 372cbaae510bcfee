-- Written by hand (issue 11); the number is a placeholder, renumbered with drizzle's snapshot at merge.
-- A contributor is named on the public page only once they choose to be (false until then).
ALTER TABLE `parties` ADD `public` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- The public page sums a period's payments (money going back: ledger_transactions_stripe_day, 0011).
CREATE INDEX `payments_currency_paid_at` ON `payments` (`currency`,`paid_at_s`);
