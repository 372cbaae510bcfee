-- drizzle-kit's table and index (db:generate), with the backfill and the triggers written by hand.
-- Balances without reading every posting (GET /api/v1/balances, payouts): each account's sum per
-- currency, and what was paid out of it, kept by triggers on every write to `postings` (insert,
-- and the update or delete a repair would make), so that they always equal the postings' sums.
CREATE TABLE `account_balances` (
	`account` text NOT NULL,
	`currency` text NOT NULL,
	`balance_minor` integer NOT NULL,
	`paid_minor` integer NOT NULL,
	`postings` integer NOT NULL,
	PRIMARY KEY(`account`, `currency`)
);
--> statement-breakpoint
INSERT INTO `account_balances` (`account`, `currency`, `balance_minor`, `paid_minor`, `postings`)
SELECT `account`, `currency`, sum(`amount_minor`), -sum(CASE WHEN `role` = 'payout' THEN `amount_minor` ELSE 0 END), count(*)
FROM `postings` GROUP BY `account`, `currency`;
--> statement-breakpoint
CREATE TRIGGER `postings_add_to_balances` AFTER INSERT ON `postings`
BEGIN
	INSERT INTO `account_balances` (`account`, `currency`, `balance_minor`, `paid_minor`, `postings`)
	VALUES (NEW.`account`, NEW.`currency`, NEW.`amount_minor`, CASE WHEN NEW.`role` = 'payout' THEN -NEW.`amount_minor` ELSE 0 END, 1)
	ON CONFLICT (`account`, `currency`) DO UPDATE SET
		`balance_minor` = `balance_minor` + excluded.`balance_minor`,
		`paid_minor` = `paid_minor` + excluded.`paid_minor`,
		`postings` = `postings` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `postings_take_from_balances` AFTER DELETE ON `postings`
BEGIN
	UPDATE `account_balances` SET
		`balance_minor` = `balance_minor` - OLD.`amount_minor`,
		`paid_minor` = `paid_minor` - CASE WHEN OLD.`role` = 'payout' THEN -OLD.`amount_minor` ELSE 0 END,
		`postings` = `postings` - 1
	WHERE `account` = OLD.`account` AND `currency` = OLD.`currency`;
END;
--> statement-breakpoint
CREATE TRIGGER `postings_move_in_balances` AFTER UPDATE OF `account`, `currency`, `amount_minor`, `role` ON `postings`
BEGIN
	UPDATE `account_balances` SET
		`balance_minor` = `balance_minor` - OLD.`amount_minor`,
		`paid_minor` = `paid_minor` - CASE WHEN OLD.`role` = 'payout' THEN -OLD.`amount_minor` ELSE 0 END,
		`postings` = `postings` - 1
	WHERE `account` = OLD.`account` AND `currency` = OLD.`currency`;
	INSERT INTO `account_balances` (`account`, `currency`, `balance_minor`, `paid_minor`, `postings`)
	VALUES (NEW.`account`, NEW.`currency`, NEW.`amount_minor`, CASE WHEN NEW.`role` = 'payout' THEN -NEW.`amount_minor` ELSE 0 END, 1)
	ON CONFLICT (`account`, `currency`) DO UPDATE SET
		`balance_minor` = `balance_minor` + excluded.`balance_minor`,
		`paid_minor` = `paid_minor` + excluded.`paid_minor`,
		`postings` = `postings` + 1;
END;
--> statement-breakpoint
-- What is still held (a payment's hold has not passed): the transactions from a moment on.
CREATE INDEX `ledger_transactions_available` ON `ledger_transactions` (`available_at_ms`);
