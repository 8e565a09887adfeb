/**
 * Wires a coordinator from settings: store, git hosting, metrics registry, root token, HTTP
 * listener. Used by `flotilla coordinator`, `flotilla up` and `flotilla run`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { Registry, collectDefaultMetrics } from 'prom-client';

import { ACCESS_TOKEN_PREFIX } from '../api/runner-api.js';
import { buildCoordinator, type Coordinator } from '../coordinator/app.js';
import { defaultCoordinatorConfig, type CoordinatorConfig } from '../coordinator/config.js';
import { createGitHost, type GitHost } from '../coordinator/git/index.js';
import { createQueueBus, createStore, parseStoreUrl } from '../coordinator/store/create-store.js';
import type { Store } from '../coordinator/store/store.js';
import { systemClock } from '../shared/clock.js';
import { FlotillaError } from '../shared/errors.js';
import { hashToken, newToken } from '../shared/hash.js';
import type { Logger } from '../shared/logger.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';

export interface StartCoordinatorOptions {
  /** `HOST:PORT`; port 0 picks a free one. */
  listen: string;
  dataDir: string;
  /** Default: SQLite file `<dataDir>/flotilla.db`. */
  databaseUrl?: string;
  /** Default: `http://<listen host>:<port>`. */
  externalUrl?: string;
  logger: Logger;
  /** Tells the user the generated root token (printed once). */
  onRootTokenCreated?: (token: string, file: string) => void;
  config?: Partial<CoordinatorConfig>;
  /** The data directory is deleted when the process ends (`flotilla run`): no fsyncs. */
  throwaway?: boolean;
}

export interface RunningCoordinator {
  url: string;
  rootToken: string;
  coordinator: Coordinator;
  store: Store;
  git: GitHost;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `--listen "${listen}" is not HOST:PORT (for example 127.0.0.1:8080 or 0.0.0.0:8080)`,
    );
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** The root token: FLOTILLA_ROOT_TOKEN, else `<dataDir>/root-token`, else a new one written there. */
async function ensureRootToken(
  store: Store,
  dataDir: string,
  options: StartCoordinatorOptions,
): Promise<string> {
  await store.ensureRootUser();
  const file = path.join(dataDir, 'root-token');
  let token = process.env['FLOTILLA_ROOT_TOKEN']?.trim();
  if (!token) token = (await readFile(file, 'utf8').catch(() => '')).trim() || undefined;
  if (!token) {
    token = newToken(ACCESS_TOKEN_PREFIX);
    await writeFile(file, token + '\n', { mode: 0o600 });
    options.onRootTokenCreated?.(token, file);
  }
  if (token.length < 20) {
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', 'FLOTILLA_ROOT_TOKEN must be at least 20 characters');
  }
  if (!(await store.findAccessTokenByHash(hashToken(token)))) {
    await store.createAccessToken({
      userId: 1,
      name: 'root',
      tokenHash: hashToken(token),
      scopes: ['api'],
      expiresAt: null,
    });
  }
  return token;
}

/** `FLOTILLA_SESSION_SECRET` signs web UI sessions; replicas behind one address must share it. */
function sessionSecretFromEnv(): { sessionSecret?: string } {
  const secret = process.env['FLOTILLA_SESSION_SECRET']?.trim();
  if (!secret) return {};
  if (secret.length < 32) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      'FLOTILLA_SESSION_SECRET must be at least 32 characters',
    );
  }
  return { sessionSecret: secret };
}

/** What to do about a listen that failed; other errors as they are. */
export function listenError(err: unknown, listen: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const what: Record<string, string> = {
    EADDRINUSE: 'the address is already in use by another process: stop it, or choose another --listen',
    EADDRNOTAVAIL: 'this machine has no such address: use 127.0.0.1, 0.0.0.0 or one of its own addresses',
    EACCES: 'listening on this port needs privileges: choose a port above 1023',
  };
  const hint = code === undefined ? undefined : what[code];
  if (hint === undefined) return err;
  return new FlotillaError('FLO_ERR_CONFIG_INVALID', `--listen ${listen}: ${hint}`, { cause: err });
}

export async function startCoordinator(options: StartCoordinatorOptions): Promise<RunningCoordinator> {
  const { host, port } = parseListen(options.listen);
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const registry = new Registry();
  const storeUrl = options.databaseUrl ?? path.join(dataDir, 'flotilla.db');
  // A SQLite store has one owning process (data-dir-lock.ts); a throwaway one is this run's alone.
  const lock =
    parseStoreUrl(storeUrl).dialect === 'sqlite' && options.throwaway !== true
      ? await lockDataDir(dataDir)
      : null;
  const store = await createStore(storeUrl, {
    logger: options.logger,
    registry,
    throwaway: options.throwaway === true,
    traceFiles: { dir: path.join(dataDir, 'traces') },
  }).catch(async (err: unknown) => {
    await lock?.release();
    throw err;
  });
  return serve(options, { host, port, dataDir, registry, storeUrl, store, lock });
}

interface Opened {
  host: string;
  port: number;
  dataDir: string;
  registry: Registry;
  storeUrl: string;
  store: Store;
  lock: DataDirLock | null;
}

async function serve(options: StartCoordinatorOptions, opened: Opened): Promise<RunningCoordinator> {
  const { host, port, dataDir, registry, storeUrl, store, lock } = opened;
  let queueBus: Awaited<ReturnType<typeof createQueueBus>>;
  try {
    queueBus = await createQueueBus(storeUrl, options.logger);
    const rootToken = await ensureRootToken(store, dataDir, options);
    collectDefaultMetrics({ register: registry, prefix: 'flotilla_coordinator_' });
    const git = createGitHost({ root: path.join(dataDir, 'repositories'), logger: options.logger });
    const provisional = options.externalUrl ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    const config = defaultCoordinatorConfig({
      externalUrl: provisional,
      artifactsDir: path.join(dataDir, 'artifacts'),
      ...sessionSecretFromEnv(),
      ...options.config,
    });
    const coordinator = await buildCoordinator({
      store,
      git,
      config,
      clock: systemClock,
      logger: options.logger,
      registry,
      queueBus,
    });
    await coordinator.app.listen({ host, port }).catch((err: unknown) => {
      throw listenError(err, options.listen);
    });
    const address = coordinator.app.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    if (!options.externalUrl) {
      config.externalUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actualPort}`;
    }
    return {
      url: config.externalUrl,
      rootToken,
      coordinator,
      store,
      git,
      close: async () => {
        await coordinator.close();
        git.close();
        await queueBus?.close();
        await store.close();
        await lock?.release();
      },
    };
  } catch (err) {
    await queueBus?.close();
    await store.close();
    await lock?.release();
    throw err;
  }
}
