ALTER TABLE `payment_lines` ADD `weight_minor` integer;--> statement-breakpoint
ALTER TABLE `payments` ADD `tax_minor` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `shipping_minor` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `charge_id` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `balance_transaction_id` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `exchange_rate` text;