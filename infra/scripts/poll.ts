// The one polling loop of the scripts: ask until there is an answer, or give up with a reason.

export interface PollOptions {
  timeoutMs: number;
  /** Pause between two probes. */
  everyMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`, and returns that. A probe
 * that throws counts as "not yet" (a server still starting refuses connections); its last
 * error is named in the timeout's message, so that a wait that never ends says why.
 */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, { timeoutMs, everyMs = 500 }: PollOptions): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + everyMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  const why = lastError === undefined ? "" : ` (last error: ${describe(lastError)})`;
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, …) is in its cause. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
