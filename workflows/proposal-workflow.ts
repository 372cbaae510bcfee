// A proposal's workflow: asleep until its notice ends, then it settles the proposal (consent.ts):
// a rule version if nothing holds it, else held until an objection is lifted or the last
// approval comes (those settle it at once, from the API). If it wakes before the notice is over
// by the worker's clock (the engine's timer and the clock may disagree by a little), it sleeps
// the rest and looks again; the minute sweep settles anything it leaves.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import { settleProposal, type Settlement } from "./consent";
import type { Env, ProposalParams } from "./env";

const SETTLE: WorkflowStepConfig = { retries: { limit: 5, delay: "10 seconds", backoff: "exponential" }, timeout: "60 seconds" };

/** Times it looks again after waking early before leaving the proposal to the minute sweep. */
export const MAX_WAKES = 30;

export class ProposalWorkflow extends WorkflowEntrypoint<Env, ProposalParams> {
  override async run(event: Readonly<WorkflowEvent<ProposalParams>>, step: WorkflowStep): Promise<Settlement> {
    const { proposal_id, notice_ends_ms } = event.payload;
    let settled: Settlement = { outcome: "notice_running", notice_ends_ms };
    for (let wake = 1; wake <= MAX_WAKES && settled.outcome === "notice_running"; wake++) {
      // Read outside a step, so this may differ on a replay: a sleep already done is not slept
      // again once the notice is over (nothing left to wait), and a sleep cut short sleeps the rest.
      const left_ms = notice_ends_ms - Date.now();
      if (left_ms > 0) await step.sleep(`wait for the notice to end (${wake})`, Math.max(left_ms, 1_000));
      // Safe to run again: a version is keyed by its proposal, and a hold is recorded once.
      settled = await step.do(`settle the proposal (${wake})`, SETTLE, () => settleProposal(this.env, proposal_id, Date.now()));
    }
    console.log(JSON.stringify({ msg: "proposal settled", proposal_id, ...settled }));
    return settled;
  }
}
