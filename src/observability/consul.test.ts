import { describe, expect, it } from 'vitest';

import { consulService, serviceId } from './consul.js';

const settings = { serviceName: 'flotilla', intervalSeconds: 30 };

describe('consulService', () => {
  it('turns a target into a service: address, port, component tag, meta without the prefix', () => {
    const svc = consulService(
      settings,
      {
        targets: ['[::1]:9252'],
        labels: { __meta_flotilla_component: 'runner-manager', __meta_flotilla_runners: ',a,b,' },
      },
      '[::1]:9252',
    );
    expect(svc).toMatchObject({
      ID: 'flotilla----1--9252',
      Name: 'flotilla',
      Address: '::1',
      Port: 9252,
      Tags: ['runner-manager'],
      Meta: { component: 'runner-manager', runners: ',a,b,' },
      Check: { TTL: '90s', DeregisterCriticalServiceAfter: '300s' },
    });
  });

  it('skips targets without a port and label names Consul rejects', () => {
    expect(consulService(settings, { targets: ['host'], labels: {} }, 'host')).toBeNull();
    const svc = consulService(
      settings,
      { targets: ['h:1'], labels: { 'bad.key': 'x', __meta_flotilla_ok: 'y' } },
      'h:1',
    );
    expect(svc?.Meta).toEqual({ ok: 'y' });
    expect(svc?.Tags).toEqual([]);
  });

  it('makes ids Consul accepts', () => {
    expect(serviceId('flotilla', '10.0.0.5:9100')).toBe('flotilla-10.0.0.5-9100');
  });
});
