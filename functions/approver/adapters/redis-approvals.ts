import type { RedisPlannerState } from '../../planner/adapters/redis-planner-state.js';
import type { ApprovalStorePort, IncidentState, StoredApproval } from '../core/ports.js';

/**
 * The approvals the planner stores, read and decided through the planner's own Redis adapter: the planner owns
 * the layout, and the approver trusts none of it without the seal.
 */
export class RedisApprovalStore implements ApprovalStorePort {
  constructor(private readonly state: RedisPlannerState) {}

  read(approvalId: string): Promise<StoredApproval> {
    return this.state.readApproval(approvalId);
  }

  decide(
    approvalId: string,
    decision: 'approved' | 'rejected',
    decidedBy: string,
    now: Date,
    reason?: string,
  ): ReturnType<ApprovalStorePort['decide']> {
    return this.state.decideApproval(approvalId, decision, decidedBy, now, reason);
  }

  async incident(incidentId: string): Promise<IncidentState> {
    const incident = await this.state.readIncident(incidentId);
    if (incident.status !== 'planned') return incident;
    // A record this version cannot read says nothing about the approval: treat it as superseded, not as fresh.
    const outputs = incident.record?.outputs ?? [];
    return {
      status: 'planned',
      approvalIds: outputs.flatMap((o) => (o.kind === 'approval-request' ? [o.approval.approvalId] : [])),
      concluded: incident.record?.conclusion !== undefined,
    };
  }
}
