// What the deployed worker bundles in place of zod's locales (wrangler.toml, [alias]): English
// only. zod's classic entry re-exports every locale as a namespace (`z.locales`), which the
// bundler cannot drop once `z` is passed around as a value (@hono/zod-openapi does), and the
// 40-odd translations weigh a third of zod. The worker answers in English and never selects
// another locale; tests and scripts, which do not go through wrangler's bundler, keep them all.
export { default as en } from "zod/v4/locales/en.js";
