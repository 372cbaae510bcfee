-- Written by hand (issue 11); the number is a placeholder, renumbered with drizzle's snapshot at merge.
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
