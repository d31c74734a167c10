import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatePagerDutyEvent } from '../../../local/standins/receivers/pagerduty.js';
import {
  barestAlert,
  firingAlert,
  largestAlert,
  resolvedAlert,
} from '../../../local/standins/receivers/sample-alerts.js';
import { pagerDutyEvent } from './pagerduty-event.js';

const ROUTING_KEY = '0123456789abcdef0123456789abcdef';
const cases = {
  firing: firingAlert(),
  resolved: resolvedAlert(),
  largest: largestAlert(),
  barest: barestAlert(),
};

describe('PagerDuty event', () => {
  for (const [name, alert] of Object.entries(cases)) {
    it(`is an event PagerDuty accepts: ${name} alert`, () => {
      assert.deepEqual(validatePagerDutyEvent(JSON.stringify(pagerDutyEvent(alert, ROUTING_KEY))), []);
    });
  }

  it('triggers for a firing alert and resolves the same incident for a resolved one', () => {
    const trigger = pagerDutyEvent(firingAlert(), ROUTING_KEY);
    const resolve = pagerDutyEvent(resolvedAlert(), ROUTING_KEY);
    assert.equal(trigger.event_action, 'trigger');
    assert.equal(resolve.event_action, 'resolve');
    assert.equal(trigger.dedup_key, firingAlert().dedupKey);
    assert.equal(resolve.dedup_key, trigger.dedup_key);
  });

  it('keeps the severity, the links and the details a responder needs', () => {
    const event = pagerDutyEvent(firingAlert(), ROUTING_KEY);
    assert.ok(event.event_action === 'trigger');
    assert.equal(event.payload.severity, 'critical');
    assert.equal(event.payload.source, 'dev');
    assert.equal(event.payload.component, 'cart');
    assert.equal(event.payload.group, 'shop');
    assert.equal(event.payload.custom_details.incident_id, 'inc-7f3a');
    assert.deepEqual(
      event.links.map((l) => l.href),
      firingAlert().links.map((l) => l.url),
    );
  });
});
