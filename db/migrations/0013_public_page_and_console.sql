-- The public page and the admin console (issue 11).
-- A contributor is named on the public page only once they choose to be (false until then).
ALTER TABLE `parties` ADD `public` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- The public page sums a period's payments (money going back: ledger_transactions_stripe_day, 0011).
CREATE INDEX `payments_currency_paid_at` ON `payments` (`currency`,`paid_at_s`);
--> statement-breakpoint
-- Admin console sessions: an API token exchanged for a cookie. Only the session id's SHA-256 is kept.
CREATE TABLE `console_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`actor` text NOT NULL,
	`credential_hash` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL
);--> statement-breakpoint
CREATE INDEX `console_sessions_expires` ON `console_sessions` (`expires_at_ms`);
