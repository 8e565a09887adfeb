/**
 * The EC2 API calls the provider uses (RunInstances, DescribeInstances by tag, TerminateInstances)
 * through the official AWS SDK v3 client, with the SDK's default credential chain (environment,
 * shared config and credentials files, SSO, web identity, the instance role), optionally pointed at
 * a profile or files. The SDK's own retries are off: every call is retried here with the injected
 * clock, on throttling (RequestLimitExceeded, Throttling) and on 5xx and timeouts. All three calls
 * are safe to repeat (RunInstances carries a ClientToken), so a lost answer is asked again.
 * The SDK is loaded (`require`, also from the bundle, where it stays external) when a provider
 * starts, so commands and runners without `aws` never read it.
 */
import { createRequire } from 'node:module';

import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { Instance, RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import type * as CredentialSdk from '@aws-sdk/credential-provider-node';

import type { Clock } from '../../../shared/clock.js';
import { ProviderError, type ProviderErrorKind } from '../provider.js';
import { backoffMs, CloudApiError } from '../rest-client.js';
import type { AwsProviderConfig } from './config.js';

const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
]);

/** Refusals of capacity or quota: back off, fail over; spot ones fall back to on-demand. */
export const SPOT_REFUSALS = new Set([
  'InsufficientInstanceCapacity',
  'SpotMaxPriceTooLow',
  'MaxSpotInstanceCountExceeded',
]);
const CAPACITY = new Set([
  ...SPOT_REFUSALS,
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientFreeAddressesInSubnet',
]);

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The error kind of an EC2 error code and HTTP status. PURE. */
export function classifyEc2Error(code: string, status: number): ProviderErrorKind {
  if (THROTTLING.has(code) || status === 429) return 'rate_limit';
  if (CAPACITY.has(code)) return 'capacity';
  return 'api';
}

/** A failed EC2 call as a `CloudApiError` (the EC2 error code is `body.code`). PURE. */
export function ec2Failure(err: unknown, action: string): ProviderError {
  const e = (err ?? {}) as SdkError;
  if (e.name === 'AbortError' || e.name === 'TimeoutError')
    return new ProviderError('timeout', `${action}: no answer in time`, { cause: err });
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status === 0) return new ProviderError('api', `${action}: ${String(err)}`, { cause: err });
  const code = e.name ?? 'Unknown';
  return new CloudApiError(classifyEc2Error(code, status), status, `${action}: ${code}: ${e.message ?? ''}`, {
    code,
  });
}

/** The EC2 error code of a failure, or ''. PURE. */
export function ec2Code(err: unknown): string {
  return ((err as CloudApiError).body as { code?: string } | undefined)?.code ?? '';
}

export interface Ec2Api {
  run(input: RunInstancesCommandInput): Promise<Instance>;
  /** Every instance carrying `tag=value` that is not terminated, across pages. */
  listByTag(tag: string, value: string): Promise<Instance[]>;
  terminate(ids: string[]): Promise<void>;
}

const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

export function createEc2Api(config: AwsProviderConfig, clock: Clock, random = Math.random): Ec2Api {
  const requireSdk = createRequire(import.meta.url);
  const { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } = requireSdk(
    '@aws-sdk/client-ec2',
  ) as typeof Ec2Sdk;
  const { defaultProvider } = requireSdk('@aws-sdk/credential-provider-node') as typeof CredentialSdk;
  const ec2 = new EC2Client({
    region: config.region,
    maxAttempts: 1,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    credentials: defaultProvider({
      ...(config.profile ? { profile: config.profile } : {}),
      ...(config.credentials_file ? { filepath: config.credentials_file } : {}),
      ...(config.config_file ? { configFilepath: config.config_file } : {}),
    }),
  });

  async function call<T>(action: string, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send(AbortSignal.timeout(config.request_timeout * 1000));
      } catch (err) {
        const failure = ec2Failure(err, action);
        const status = failure instanceof CloudApiError ? failure.status : 0;
        const retryable =
          failure.kind === 'rate_limit' ||
          failure.kind === 'timeout' ||
          (failure.kind === 'api' && (status >= 500 || status === 0));
        if (!retryable || attempt >= config.retries) throw failure;
        await clock.sleep(backoffMs(attempt, random));
      }
    }
  }

  return {
    async run(input) {
      const out = await call('RunInstances', (abortSignal) =>
        ec2.send(new RunInstancesCommand(input), { abortSignal }),
      );
      const instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new ProviderError('api', 'RunInstances answered no instance');
      return instance;
    },
    async listByTag(tag, value) {
      const out: Instance[] = [];
      let token: string | undefined;
      do {
        const page = await call('DescribeInstances', (abortSignal) =>
          ec2.send(
            new DescribeInstancesCommand({
              Filters: [
                { Name: `tag:${tag}`, Values: [value] },
                { Name: 'instance-state-name', Values: LIVE_STATES },
              ],
              MaxResults: 1000,
              ...(token ? { NextToken: token } : {}),
            }),
            { abortSignal },
          ),
        );
        for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
        token = page.NextToken || undefined;
      } while (token);
      return out;
    },
    async terminate(ids) {
      await call('TerminateInstances', (abortSignal) =>
        ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }), { abortSignal }),
      );
    },
  };
}
