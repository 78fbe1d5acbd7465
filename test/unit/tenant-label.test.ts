import { describe, expect, it } from 'vitest';
import { createTenantLabels, otherTenants } from '../../src/metrics/tenant-label.js';

describe('tenant metric labels', () => {
  it('names the busiest tenants and calls every other one `other`, however many come', () => {
    const label = createTenantLabels(2, 100);
    for (let i = 0; i < 50; i++) {
      label('busy');
      label('steady');
    }
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(label(`one-off-${i}`));
    expect(seen).toEqual(new Set([otherTenants]));
    expect(label('busy')).toBe('busy');
    expect(label('steady')).toBe('steady');
  });

  it('gives a tenant that becomes busy its own name', () => {
    const label = createTenantLabels(1, 10);
    for (let i = 0; i < 3; i++) label('early');
    expect(label('late')).toBe(otherTenants);
    // The next elections count 'late' as busier.
    for (let i = 0; i < 30; i++) label('late');
    expect(label('late')).toBe('late');
    expect(label('early')).toBe(otherTenants);
  });

  it('names no tenant when told to name none', () => {
    expect(createTenantLabels(0)('busy')).toBe(otherTenants);
  });
});
