/**
 * Pot Commun's pure money logic: exact rationals, allocation, the split-rule language,
 * payment splits and ledger postings. No I/O and no runtime imports: numbers and rules in,
 * parts and postings out. See core/README.md.
 */
export { InvariantError, invariant } from "./invariant";
export {
  type Rational,
  rational,
  fromInteger,
  add,
  sub,
  mul,
  div,
  compare,
  floor,
  fractionalPart,
  parsePercentage,
  parseFraction,
  formatPercentage,
  formatRational,
} from "./rational";
export {
  allocateByLargestRemainder,
  allocateByWeights,
  allocateSignedByWeights,
  roundByLargestRemainder,
  floorWithResidue,
  type FlooredParts,
} from "./allocate";
export { minorUnitExponent, isCurrencyCode, formatMinor, type MinorUnitExponent } from "./currency";
export * from "./rules";
export {
  splitPayment,
  MAX_PAYMENT_LINES,
  type PaymentInput,
  type PaymentLineInput,
  type PaymentLineSplit,
  type PaymentSplit,
  type PartyShare,
  type PaymentError,
  type PaymentErrorCode,
  type SplitPaymentResult,
} from "./payment";
export {
  paymentPostings,
  checkTransactions,
  assertBalanced,
  partyAccount,
  partyOfAccount,
  PARTY_ACCOUNT_PREFIX,
  ACCOUNT_STRIPE_CUSTOMERS,
  ACCOUNT_STRIPE_FEES,
  ACCOUNT_COOP_FEE_ABSORBED,
  ACCOUNT_TAX_COLLECTED,
  ACCOUNT_COOP_SHIPPING,
  type Posting,
  type PostingRole,
  type RolePosting,
  type LedgerTransaction,
  type LedgerCheck,
  type Imbalance,
  type MalformedPosting,
} from "./ledger";
export { diffRules, type RuleChange } from "./rule-diff";
export {
  canonicalJson,
  contentHash,
  etagOf,
  ifMatchAccepts,
  effectiveFrom,
  versionInForce,
  versionStatus,
  PAST_TOLERANCE_MS,
  type EffectiveFrom,
  type VersionStatus,
} from "./rule-versioning";
export { sameDigest, sha256Hex, toHex, unitHash } from "./hash";
export { lineBasis, type LineAmounts } from "./basis";
export { replayRules, type Replay, type ReplayLine, type ReplayTotal } from "./what-if";
export {
  takenBack,
  moneyBackPostings,
  pendingMovementsPostings,
  ACCOUNT_COOP_FEES_KEPT,
  ACCOUNT_COOP_FX,
  type PostedLine,
  type PostedPayment,
  type MoneyMovement,
  type PendingMovement,
  type ReversalError,
  type ReversalResult,
} from "./reversal";
export { offerVersionAt, offerOfLine, listedFrom, type PriceListing } from "./offer-history";
export {
  distributeByNeed,
  needCap,
  throttleNeeds,
  solidarityTopUps,
  medianReceived,
  planClose,
  explainMember,
  explainClose,
  type DeclaredNeed,
  type LastPeriod,
  type ClosePlan,
  type ClosePlanInput,
  type CloseMember,
  type ClosedMember,
  type PoolDistribution,
} from "./pools";
export { POOL_PERIODS, poolPeriodOf, poolPeriodBounds, previousPoolPeriod, type PoolPeriod } from "./periods";
export {
  buildStatement,
  statementCause,
  periodOf,
  MAX_PERIOD_DAYS,
  STATEMENT_CAUSES,
  type Period,
  type PeriodError,
  type PeriodErrorCode,
  type StatementCause,
  type StatementPosting,
  type StatementCredit,
  type StatementBalance,
  type StatementLine,
  type StatementInput,
  type CurrencyStatement,
} from "./statement";
export {
  reconcileDay,
  billedFeePostings,
  ledgerAmounts,
  ledgerKey,
  treatmentOf,
  utcDay,
  ACCOUNT_COOP_STRIPE_BILLING,
  ACCOUNT_STRIPE_TRANSFERS,
  BILLED_APART_TYPES,
  OUTSIDE_LEDGER_TYPES,
  DIFFERENCE_CODES,
  RECONCILED_KINDS,
  type DayReconciliation,
  type Difference,
  type DifferenceCode,
  type LedgerKind,
  type LedgerMovement,
  type StripeMovement,
} from "./reconciliation";
export { parseDuration, MIN_NOTICE_MS, MAX_NOTICE_MS, type ParsedDuration, type DurationErrorCode } from "./duration";
export {
  proposalStatus,
  activationDecision,
  activationEffectiveFrom,
  affectedParties,
  affectedPartyIds,
  visibleAffected,
  approvalRefusal,
  PROPOSAL_STATUSES,
  type ProposalStatus,
  type StoredProposalStatus,
  type ProposalFacts,
  type ActivationDecision,
  type AffectedParty,
  type ApprovalRefusal,
} from "./consent";
export { ruleInSentences } from "./rule-sentences";
export { signatureHeader, verifySignature, SIGNATURE_HEADER, SIGNATURE_TOLERANCE_S, type SignatureCheck } from "./webhook-signature";
export { LANGS, isLang, formatDecimal, formatMoney, formatPercentText, joinWords, type Lang } from "./words";
export { parsePeriod, periodContaining, periodsBetween, PERIOD_KINDS, PERIOD_YEARS, type ReportPeriod, type PeriodKind, type ParsePeriodResult, type YearPeriods } from "./report-period";
export {
  buildFlows,
  BACK_KINDS,
  DEFAULT_MAX_NAMED_CONTRIBUTORS,
  type BackKind,
  type BackTotals,
  type FlowInput,
  type FlowLink,
  type FlowNode,
  type FlowNodeKind,
  type FlowParty,
  type FlowPartyKind,
  type FlowRecipient,
  type Flows,
  type FlowTotals,
} from "./flows";
export { dateTimeLabel, flowsInWords, inPeriod, periodLabel } from "./flow-words";
export { ruleInWords, type RuleInWords, type RuleWordsContext, type WordsParty, type WordsScope } from "./rule-words";
export { publicPoolClose, poolCloseInWords, type PoolCloseRecord, type PublicPoolClose, type PublicPoolMember, type PoolWordsParty } from "./pool-words";
