import { defaultTenantSettings } from '../src/domain/tenants.js';
import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createSlotActivities } from '../src/activities/slot-activities.js';
import { type SlotRequest } from '../src/contract/execution-activities.js';
import { createCapacitySlots, type CapacitySlots } from '../src/slots/capacity-slots.js';
import { silentLogger } from '../src/util/logger.js';
import { testReconcilerSettings, testSettings } from './support/test-settings.js';

const suffix = randomBytes(4).toString('hex');
const keyPrefix = `test-slot-activity-${suffix}`;

describe('the queued acquire activity', () => {
  const redis = new Redis(inject('redisUrl'));
  const slots = createCapacitySlots(redis, { leaseMs: 60_000, waiterTtlMs: 10_000, keyPrefix });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('rides out Redis errors while it waits instead of failing the execution', async () => {
    let failures = 3;
    // What ioredis throws while Redis restarts; then Redis is back.
    const restarting: CapacitySlots = {
      ...slots,
      async tryAcquire(...args) {
        if (failures > 0) {
          failures -= 1;
          throw new Error('Reached the max retries per request limit (which is 3)');
        }
        return slots.tryAcquire(...args);
      },
    };
    const { acquireSlot } = createSlotActivities({
      slots: restarting,
      settings: { execution: { ...testSettings, pollIntervalMs: 50 }, reconciler: testReconcilerSettings },
      clock: Date.now,
      log: silentLogger(),
      tenantSettings: async (name) => defaultTenantSettings(name),
    });
    const now = Date.now();
    const env = new MockActivityEnvironment(
      {
        activityType: 'acquireSlot',
        scheduledTimestampMs: now,
        currentAttemptScheduledTimestampMs: now,
        scheduleToCloseTimeoutMs: 30_000,
        startToCloseTimeoutMs: 30_000,
        heartbeatTimeoutMs: 3000,
      },
      { logger: new DefaultLogger('ERROR') },
    );
    const req: SlotRequest = { agent: `agent-${suffix}`, executionId: `exec-${suffix}`, capacity: 1 };

    expect(await env.run(acquireSlot, req)).toBe(true);
    expect(failures).toBe(0);
    expect((await slots.leases(req.agent)).map((l) => l.executionId)).toEqual([req.executionId]);
  });
});
