import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";

// Every test starts from an empty D1 with the migrations applied, so no test sees rows another
// left behind and test order never matters. Plugin 1.5 has no per-test isolated storage (it went
// with the move to Vitest 4); reset() from cloudflare:test is its replacement: it deletes the data
// of every storage binding (D1 included, its migrations table too). It does not stop a workflow
// run that is still going (a run waiting to retry went on writing after it, when tried): a test
// that starts a run waits for it to end. Seed what a test needs in the test or its file's
// beforeEach (helpers.ts seedCatalog), never in beforeAll: this runs before each test and would wipe it.
beforeEach(async () => {
  await reset();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

// A test that sets the clock (helpers.ts setClock) gets the real one back.
afterEach(() => {
  vi.useRealTimers();
});
