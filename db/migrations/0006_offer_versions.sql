CREATE TABLE `offer_version_contributors` (
	`offer_id` text NOT NULL,
	`version` integer NOT NULL,
	`party_id` text NOT NULL,
	`weight` integer NOT NULL,
	`position` integer NOT NULL,
	PRIMARY KEY(`offer_id`, `version`, `party_id`),
	FOREIGN KEY (`party_id`) REFERENCES `parties`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`offer_id`,`version`) REFERENCES `offer_versions`(`offer_id`,`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `offer_version_prices` (
	`offer_id` text NOT NULL,
	`version` integer NOT NULL,
	`price_id` text NOT NULL,
	PRIMARY KEY(`offer_id`, `version`, `price_id`),
	FOREIGN KEY (`offer_id`,`version`) REFERENCES `offer_versions`(`offer_id`,`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `offer_version_prices_price` ON `offer_version_prices` (`price_id`);--> statement-breakpoint
CREATE TABLE `offer_versions` (
	`offer_id` text NOT NULL,
	`version` integer NOT NULL,
	`effective_from_ms` integer NOT NULL,
	`name` text NOT NULL,
	`author` text NOT NULL,
	`reason` text,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`offer_id`, `version`),
	FOREIGN KEY (`offer_id`) REFERENCES `offers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
-- Offers as they stood before they had versions: each becomes its version 1, in force from the beginning (0), with its prices and contributors.
INSERT INTO `offer_versions` (`offer_id`, `version`, `effective_from_ms`, `name`, `author`, `reason`, `created_at_ms`)
	SELECT `id`, 1, 0, `name`, 'migration', 'the offer as it stood when offers got versions', `created_at_ms` FROM `offers`;--> statement-breakpoint
INSERT INTO `offer_version_prices` (`offer_id`, `version`, `price_id`) SELECT `offer_id`, 1, `price_id` FROM `offer_prices`;--> statement-breakpoint
INSERT INTO `offer_version_contributors` (`offer_id`, `version`, `party_id`, `weight`, `position`) SELECT `offer_id`, 1, `party_id`, `weight`, `position` FROM `offer_contributors`;--> statement-breakpoint
-- A price belongs to one offer at most at any moment: a version may not list a price during a time
-- when a version of another offer lists it. Version k of an offer is in force from its
-- effective_from until version k+1's (open-ended for the latest). Written here, in the database,
-- so that two admins giving the same price to two offers at once cannot both succeed.
CREATE TRIGGER `offer_version_prices_one_offer_at_a_time`
BEFORE INSERT ON `offer_version_prices`
WHEN EXISTS (
	SELECT 1
	FROM `offer_version_prices` AS `other`
	JOIN `offer_versions` AS `v` ON `v`.`offer_id` = `other`.`offer_id` AND `v`.`version` = `other`.`version`
	LEFT JOIN `offer_versions` AS `v_next` ON `v_next`.`offer_id` = `other`.`offer_id` AND `v_next`.`version` = `other`.`version` + 1
	JOIN `offer_versions` AS `new_v` ON `new_v`.`offer_id` = NEW.`offer_id` AND `new_v`.`version` = NEW.`version`
	LEFT JOIN `offer_versions` AS `new_next` ON `new_next`.`offer_id` = NEW.`offer_id` AND `new_next`.`version` = NEW.`version` + 1
	WHERE `other`.`price_id` = NEW.`price_id`
		AND `other`.`offer_id` <> NEW.`offer_id`
		AND max(`v`.`effective_from_ms`, `new_v`.`effective_from_ms`)
			< min(coalesce(`v_next`.`effective_from_ms`, 9223372036854775807), coalesce(`new_next`.`effective_from_ms`, 9223372036854775807))
)
BEGIN
	SELECT RAISE(ABORT, 'price_taken: a version of another offer lists this price at that time');
END;
