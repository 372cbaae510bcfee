-- Rules changed by consent (issue 14): each rule's governance (notice, approvals); proposals,
-- their objections and approvals; the version a proposal became; outgoing webhooks, their
-- deliveries and every attempt. Written by hand; db/schema.ts says the same.
ALTER TABLE `rules` ADD `governance_notice` text DEFAULT 'P7D' NOT NULL;--> statement-breakpoint
ALTER TABLE `rules` ADD `governance_approvals` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rule_versions` ADD `proposal_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `rule_versions_proposal` ON `rule_versions` (`proposal_id`);--> statement-breakpoint
CREATE TABLE `proposals` (
	`id` text PRIMARY KEY NOT NULL,
	`rule_id` text NOT NULL,
	`thread_id` text NOT NULL,
	`amends` text,
	`base_version` integer NOT NULL,
	`body` text NOT NULL,
	`content_hash` text NOT NULL,
	`reason` text NOT NULL,
	`proposer` text NOT NULL,
	`notice` text NOT NULL,
	`notice_ends_ms` integer NOT NULL,
	`requested_effective_from_ms` integer,
	`approvals_required` integer NOT NULL,
	`impact` text NOT NULL,
	`status` text NOT NULL,
	`hold_reason` text,
	`held_at_ms` integer,
	`closed_by` text,
	`close_reason` text,
	`closed_at_ms` integer,
	`activated_version` integer,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`rule_id`) REFERENCES `rules`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `proposals_one_open_per_rule` ON `proposals` (`rule_id`) WHERE "proposals"."status" = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX `proposals_amends` ON `proposals` (`amends`);--> statement-breakpoint
CREATE INDEX `proposals_thread` ON `proposals` (`thread_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `proposals_status` ON `proposals` (`status`,`notice_ends_ms`);--> statement-breakpoint
CREATE TABLE `proposal_objections` (
	`id` text PRIMARY KEY NOT NULL,
	`proposal_id` text NOT NULL,
	`party_id` text NOT NULL,
	`reason` text NOT NULL,
	`raised_by` text NOT NULL,
	`raised_at_ms` integer NOT NULL,
	`lifted_at_ms` integer,
	`lifted_by` text,
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `proposal_objections_standing` ON `proposal_objections` (`proposal_id`,`party_id`) WHERE "proposal_objections"."lifted_at_ms" IS NULL;--> statement-breakpoint
CREATE INDEX `proposal_objections_proposal` ON `proposal_objections` (`proposal_id`);--> statement-breakpoint
CREATE TABLE `proposal_approvals` (
	`proposal_id` text NOT NULL,
	`approver` text NOT NULL,
	`at_ms` integer NOT NULL,
	PRIMARY KEY(`proposal_id`, `approver`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`events` text NOT NULL,
	`party_id` text,
	`description` text,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`disabled_at_ms` integer
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`proposal_id` text,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created_at_ms` integer NOT NULL,
	`started_at_ms` integer,
	`delivered_at_ms` integer,
	`updated_at_ms` integer NOT NULL,
	FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_event` ON `webhook_deliveries` (`endpoint_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_status` ON `webhook_deliveries` (`status`,`created_at_ms`);--> statement-breakpoint
CREATE TABLE `webhook_delivery_attempts` (
	`delivery_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`at_ms` integer NOT NULL,
	`status_code` integer,
	`error` text,
	`duration_ms` integer NOT NULL,
	PRIMARY KEY(`delivery_id`, `attempt`),
	FOREIGN KEY (`delivery_id`) REFERENCES `webhook_deliveries`(`id`) ON UPDATE no action ON DELETE no action
);
