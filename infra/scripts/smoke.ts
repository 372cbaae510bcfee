// `npm run smoke`: the README's quick start, checked by a machine. Runs `npm start` on spare
// ports with throwaway state, triggers a training and a hosting payment, and checks that
// each is processed, that its shares sum to its basis, and that the ledger check is ok.
import { poll } from "./poll";
import { startStack, type Stack } from "./stack";
import { parseTriggerArgs, trigger, type Kind } from "./trigger";

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
  console.log(`  ok  ${message}`);
}

async function smoke(stack: Stack): Promise<void> {
  for (const kind of ["training", "hosting"] as Kind[]) {
    const opts = parseTriggerArgs([kind, "--worker", stack.api, "--emulator", stack.emulator], stack.vars);
    if (opts === "help") throw new Error("unexpected help");
    const sent = await trigger(opts, fetch, () => {});
    check(sent.worker_status === 200, `${kind}: the worker acknowledged ${sent.event_id}`);
    const event = await poll(`${kind} event processed`, async () => {
      const e = await stack.get(`/events/${sent.event_id}`);
      return e.status === "processed" || e.status === "parked" || e.status === "failed" ? e : undefined;
    }, { timeoutMs: 60_000 });
    check(event.status === "processed", `${kind}: event ${sent.event_id} is ${String(event.status)}${event.reason ? ` (${String(event.reason)})` : ""}`);
    const payment = (await stack.get(`/payments/${sent.payment_intent_id}`)) as { shares: { amount_minor: number }[]; lines: { basis_minor: number }[] };
    const shares = payment.shares.reduce((a, s) => a + s.amount_minor, 0);
    const basis = payment.lines.reduce((a, l) => a + l.basis_minor, 0);
    check(shares === basis && basis > 0, `${kind}: shares sum to the basis (${shares} = ${basis})`);
  }
  const ledger = await stack.get("/ledger/check");
  check(ledger.ok === true && ledger.transactions === 2, `the ledger check is ok over ${String(ledger.transactions)} transactions`);
}

const stack = await startStack({ worker: 8799, emulator: 12199, inspector: 9299 }).catch((error: unknown) => {
  console.error(`smoke failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
try {
  await smoke(stack);
  console.log("smoke: the quick start works");
  stack.stop();
  process.exit(0);
} catch (error) {
  console.error(`smoke failed: ${error instanceof Error ? error.message : error}\n--- npm start output ---\n${stack.output().slice(-4000)}`);
  stack.stop();
  process.exit(1);
}
