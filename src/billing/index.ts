export { Billing, BillingRefusal, ticketDetailSchema, type ApprovalRequest, type BillingDeps, type DiagnosisRequest, type TicketDetail } from './billing.js'
export { settlements, type Settlement } from './bill.js'
export {
  approvalChannels,
  approvalDecisionSchema,
  approvalStates,
  billSchema,
  diagnosisSchema,
  readBill,
  type ApprovalDecision,
  type ApprovalState,
  type Bill,
  type Diagnosis,
  type SettlementRecord,
} from './records.js'
