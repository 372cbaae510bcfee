/**
 * The Stripe API version this project reads and writes, pinned in the client (stripe.ts) and
 * spoken by the local emulator: the one the installed stripe SDK's types describe
 * (`Stripe.API_VERSION`; test/unit/emulator.test.ts checks that they agree).
 */
export const STRIPE_API_VERSION = "2026-10-28.endive";
