// Plans made from approvals live with the approval record (the approver makes them); re-exported for the planner.
export { ApprovalNotUsableError, approvedPlanIdOf, planFromApproval } from '../../shared/approvals/plan.js';
