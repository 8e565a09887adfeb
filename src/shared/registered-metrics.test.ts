import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registeredHistogram, registeredOnce } from './registered-metrics.js';

describe('registeredHistogram', () => {
  it('registers once per registry and returns the same histogram after', () => {
    const registry = new Registry();
    const first = registeredHistogram(registry, 'x_seconds', 'x', ['result'], [1, 2]);
    const second = registeredHistogram(registry, 'x_seconds', 'x', ['result'], [1, 2]);
    expect(second).toBe(first);
    expect(registry.getMetricsAsArray()).toHaveLength(1);
  });

  it('registers separately in another registry', () => {
    const a = registeredHistogram(new Registry(), 'y_seconds', 'y', [], [1]);
    const b = registeredHistogram(new Registry(), 'y_seconds', 'y', [], [1]);
    expect(b).not.toBe(a);
  });
});

describe('registeredOnce', () => {
  it('calls make only when the name is not registered', () => {
    const registry = new Registry();
    let made = 0;
    const make = () => {
      made++;
      return registeredHistogram(registry, 'z_seconds', 'z', [], [1]);
    };
    registeredOnce(registry, 'z_seconds', make);
    registeredOnce(registry, 'z_seconds', make);
    expect(made).toBe(1);
  });
});
