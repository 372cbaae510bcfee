-- A contributor of an offer version may say what they do for it (facilitator, author, host):
-- statements show it on every share. Null for the contributors written before, and whenever
-- the admin names none.
ALTER TABLE `offer_version_contributors` ADD `role` text;
--> statement-breakpoint
-- Statements and the ledger export find the payment behind a ledger transaction.
CREATE INDEX `payments_transaction` ON `payments` (`transaction_id`);
