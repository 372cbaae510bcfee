DROP TABLE `offer_contributors`;--> statement-breakpoint
DROP TABLE `offer_prices`;--> statement-breakpoint
ALTER TABLE `offers` DROP COLUMN `name`;