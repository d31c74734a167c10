// The remediation actions kubepulse knows (ACTIONS in registry.ts, one file per action) and the policy that
// decides which may run; shared by the planner and the in-cluster executor so both apply the same rules.
export * from './facts.js';
export * from './policy.js';
export * from './registry.js';
export * from './spec.js';
