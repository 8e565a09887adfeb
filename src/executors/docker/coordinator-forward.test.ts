import { describe, expect, it } from 'vitest';

import { forwardedVariables, forwardingNeeded, rewriteUrls } from './coordinator-forward.js';
import { dockerConfigSchema } from './docker-config.js';

const config = (raw: Record<string, unknown>) => dockerConfigSchema.parse(raw);

describe('forwardingNeeded', () => {
  it('forwards a loopback coordinator on per-job networks only, as configured', () => {
    expect(forwardingNeeded(config({}), 'http://127.0.0.1:8080')).toBe(true);
    expect(forwardingNeeded(config({}), 'http://localhost:8080')).toBe(true);
    expect(forwardingNeeded(config({}), 'http://[::1]:8080')).toBe(true);
    expect(forwardingNeeded(config({}), 'http://10.1.2.3:8080')).toBe(false);
    expect(forwardingNeeded(config({ coordinator_forwarding: 'always' }), 'http://10.1.2.3:8080')).toBe(true);
    expect(forwardingNeeded(config({ coordinator_forwarding: 'never' }), 'http://127.0.0.1:8080')).toBe(
      false,
    );
    expect(forwardingNeeded(config({ network_mode: 'host' }), 'http://127.0.0.1:8080')).toBe(false);
    expect(
      forwardingNeeded(config({ network_mode: 'n', coordinator_forwarding: 'always' }), 'http://10.1.2.3:1'),
    ).toBe(false);
  });

  it('refuses an unknown value naming the choices', () => {
    expect(() => config({ coordinator_forwarding: 'sometimes' })).toThrow(/auto, always, never/);
  });
});

describe('rewriteUrls', () => {
  const to = '172.18.0.1:40001';

  it('rewrites the runner origin, loopback spellings and credentials URLs, nothing else', () => {
    const runner = 'http://127.0.0.1:8080';
    expect(rewriteUrls('http://127.0.0.1:8080', runner, to)).toBe(`http://${to}`);
    expect(rewriteUrls('http://localhost:8080/root/p.git', runner, to)).toBe(`http://${to}/root/p.git`);
    expect(rewriteUrls('http://gitlab-ci-token:tok@127.0.0.1:8080/root/p.git', runner, to)).toBe(
      `http://gitlab-ci-token:tok@${to}/root/p.git`,
    );
    expect(rewriteUrls('http://127.0.0.1:80801/x', runner, to)).toBe('http://127.0.0.1:80801/x');
    expect(rewriteUrls('http://127.0.0.1:9090/x', runner, to)).toBe('http://127.0.0.1:9090/x');
    expect(rewriteUrls('http://example.com:8080/x', runner, to)).toBe('http://example.com:8080/x');
  });

  it('matches an implicit default port', () => {
    expect(rewriteUrls('http://ci.internal/api/v4', 'http://ci.internal', to)).toBe(`http://${to}/api/v4`);
    expect(rewriteUrls('http://ci.internal:80/api/v4', 'http://ci.internal', to)).toBe(`http://${to}/api/v4`);
  });
});

describe('forwardedVariables', () => {
  it('rewrites the server URL variables, host and port; other variables stay', () => {
    const v = (key: string, value: string) => ({ key, value, public: true, masked: false });
    const out = forwardedVariables(
      [
        v('CI_SERVER_URL', 'http://127.0.0.1:8080'),
        v('CI_API_V4_URL', 'http://127.0.0.1:8080/api/v4'),
        v('CI_REPOSITORY_URL', 'http://gitlab-ci-token:x@127.0.0.1:8080/root/p.git'),
        v('CI_SERVER_HOST', '127.0.0.1'),
        v('CI_SERVER_PORT', '8080'),
        v('CI_PROJECT_URL', 'http://127.0.0.1:8080/root/p'),
        v('MY_URL', 'http://127.0.0.1:8080'),
      ],
      'http://127.0.0.1:8080',
      '172.18.0.1:40001',
    );
    expect(Object.fromEntries(out.map((x) => [x.key, x.value]))).toEqual({
      CI_SERVER_URL: 'http://172.18.0.1:40001',
      CI_API_V4_URL: 'http://172.18.0.1:40001/api/v4',
      CI_REPOSITORY_URL: 'http://gitlab-ci-token:x@172.18.0.1:40001/root/p.git',
      CI_SERVER_HOST: '172.18.0.1',
      CI_SERVER_PORT: '40001',
      CI_PROJECT_URL: 'http://127.0.0.1:8080/root/p',
      MY_URL: 'http://127.0.0.1:8080',
    });
  });
});
