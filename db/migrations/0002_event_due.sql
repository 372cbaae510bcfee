ALTER TABLE `stripe_events` ADD `due_at_ms` integer;--> statement-breakpoint
CREATE INDEX `stripe_events_due` ON `stripe_events` (`due_at_ms`);--> statement-breakpoint
-- Events stored before this migration: what was waiting is due now; a run in progress is due at the old stall cutoff (2 hours without progress).
UPDATE `stripe_events` SET `due_at_ms` = CASE `status` WHEN 'processing' THEN `updated_at_ms` + 7200000 ELSE `updated_at_ms` END WHERE `status` IN ('received', 'processing', 'failed');
