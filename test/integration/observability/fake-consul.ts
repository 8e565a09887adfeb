/**
 * A Consul agent's HTTP API as far as Flotilla uses it, for tests (Consul is not a Debian package
 * here): `PUT /v1/agent/service/register` (JSON body, `ID` defaults to `Name`),
 * `PUT /v1/agent/service/deregister/:id` (404 "Unknown service ID" when not registered),
 * `PUT /v1/agent/check/pass/:check_id` (404 when the check is unknown; a service's inline check is
 * `service:<id>` unless `CheckID` is given), `GET /v1/agent/services` (map of ID → service). With
 * `requiredToken` set, requests without that `X-Consul-Token` get 403 "ACL not found". Every
 * request is recorded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConsulRequest {
  method: string;
  path: string;
  token: string | undefined;
  body: unknown;
}

export interface FakeConsul {
  url: string;
  requests: ConsulRequest[];
  services: Map<string, Record<string, unknown>>;
  /** Check id → status (`passing` after a pass, `critical` when registered). */
  checks: Map<string, string>;
  close(): Promise<void>;
}

export async function startFakeConsul(options: { requiredToken?: string } = {}): Promise<FakeConsul> {
  const requests: ConsulRequest[] = [];
  const services = new Map<string, Record<string, unknown>>();
  const checks = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      const token = req.headers['x-consul-token'];
      const body: unknown = data === '' ? undefined : JSON.parse(data);
      requests.push({
        method: req.method ?? '',
        path,
        token: typeof token === 'string' ? token : undefined,
        body,
      });
      const send = (status: number, text = ''): void => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
      };
      if (options.requiredToken && token !== options.requiredToken) return send(403, 'ACL not found');
      if (req.method === 'GET' && path === '/v1/agent/services') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(Object.fromEntries(services)));
      }
      if (req.method !== 'PUT') return send(405, 'method not allowed');
      if (path === '/v1/agent/service/register') {
        const svc = body as Record<string, unknown>;
        if (typeof svc['Name'] !== 'string') return send(400, 'Missing service name');
        const id = typeof svc['ID'] === 'string' ? svc['ID'] : svc['Name'];
        services.set(id, svc);
        const check = svc['Check'] as Record<string, unknown> | undefined;
        if (check) {
          const checkId = typeof check['CheckID'] === 'string' ? check['CheckID'] : `service:${id}`;
          if (!checks.has(checkId)) checks.set(checkId, 'critical');
        }
        return send(200);
      }
      const deregister = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(path);
      if (deregister) {
        const id = deregister[1] ?? '';
        if (!services.delete(id)) return send(404, `Unknown service ID "${id}"`);
        for (const key of [...checks.keys()]) if (key === `service:${id}`) checks.delete(key);
        return send(200);
      }
      const pass = /^\/v1\/agent\/check\/pass\/(.+)$/.exec(path);
      if (pass) {
        const id = pass[1] ?? '';
        if (!checks.has(id)) return send(404, `Unknown check ID "${id}"`);
        checks.set(id, 'passing');
        return send(200);
      }
      return send(404, 'not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    services,
    checks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
