// Approvals: the record the planner stores and seals, what a human is shown, and the plan an approval becomes.
export * from './plan.js';
export * from './record.js';
export * from './seal.js';
export * from './shown.js';
