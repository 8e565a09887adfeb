/**
 * PURE conversion of a job and the `[runners.docker]` config into Engine API bodies: names, labels,
 * the per-job network and builds volume, and the ContainerCreate bodies of the helper, build (one per
 * script stage) and service containers. No I/O here; docker-executor.ts sends these.
 */
import type Docker from 'dockerode';

import type { JobImage, JobVariable } from '../../api/runner-api.js';
import type { ExecutorJob } from '../executor.js';
import type { DockerConfig } from './docker-config.js';
import { helperArgv } from './helper-request.js';
import { aliasList, serviceHostnames, withoutTag } from './image-names.js';
import { SHELL_DETECTION } from './build-script.js';

export const LABEL_MANAGED = 'com.flotilla.managed';
export const LABEL_RUNNER = 'com.flotilla.runner';
export const LABEL_JOB = 'com.flotilla.job.id';
export const LABEL_PROJECT = 'com.flotilla.project.id';
export const LABEL_TYPE = 'com.flotilla.type';
export const BUILDS_DIR = '/builds';
export const CACHE_DIR = '/cache';

export type ObjectType =
  | 'helper'
  | 'build'
  | 'service'
  | 'forwarder'
  | 'network'
  | 'builds-volume'
  | 'cache-volume'
  | 'project-volume';

/** The objects of a spare helper (spare-helper.ts) that a job took over instead of making its own. */
export interface SpareObjects {
  /** The spare's value of LABEL_JOB (`spare-<hex>`); the job's cleanup also removes by it. */
  label: string;
  buildsVolume: string;
  /** The spare's own network, when there is no network_mode. */
  network: string | null;
}

export interface SpecInput {
  job: ExecutorJob;
  config: DockerConfig;
  jobImage: string;
  helperImage: string;
  /** Set when the job took over a spare helper: its builds volume and network are the job's. */
  spare?: SpareObjects;
}

function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function safeProjectPath(job: ExecutorJob): string {
  const parts = job.payload.job_info.project_full_path
    .split('/')
    .filter((p) => p !== '' && p !== '.' && p !== '..');
  return parts.length > 0 ? parts.join('/') : `project-${job.payload.job_info.project_id}`;
}

/** CI_PROJECT_DIR inside the containers. */
export function projectDir(job: ExecutorJob): string {
  return `${BUILDS_DIR}/${safeProjectPath(job)}`;
}

export interface JobNames {
  prefix: string;
  network: string;
  buildsVolume: string;
  cacheVolume: string;
  helper(generation: number): string;
  build(stage: string, sequence: number): string;
  service(index: number, image: string): string;
  projectVolume(path: string): string;
}

function pathKey(path: string): string {
  let hash = 0;
  for (const ch of path) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** Names of every object of one job, all under `flotilla-<short>-project-<id>-concurrent-<n>-job-<id>`. */
export function jobNames(job: ExecutorJob): JobNames {
  const { payload, runner, concurrentId } = job;
  const project = `flotilla-${safe(runner.shortToken)}-project-${payload.job_info.project_id}`;
  const prefix = `${project}-concurrent-${concurrentId}-job-${payload.id}`;
  return {
    prefix,
    network: `${prefix}-network`,
    buildsVolume: `${prefix}-builds`,
    cacheVolume: `${project}-cache`,
    helper: (generation) => `${prefix}-helper-${generation}`,
    build: (stage, sequence) => `${prefix}-${safe(stage)}-${sequence}`,
    service: (index, image) => `${prefix}-svc-${index}-${safe(serviceHostnames(image)[0] ?? 'service')}`,
    projectVolume: (path) => `${project}-volume-${pathKey(path)}`,
  };
}

/** Labels of every object of a job (cleanup finds leftovers by them). */
export function jobLabels(job: ExecutorJob, type: ObjectType): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_MANAGED]: 'true',
    [LABEL_RUNNER]: job.runner.shortToken,
    [LABEL_PROJECT]: String(job.payload.job_info.project_id),
    [LABEL_TYPE]: type,
  };
  if (type !== 'cache-volume' && type !== 'project-volume') labels[LABEL_JOB] = String(job.payload.id);
  return labels;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512m" → bytes, as Docker's RAMInBytes (binary units). */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt])?i?b?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid memory size "${text}"`);
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

/** The network containers join: the config's network_mode, else the per-job network. */
export function networkFor(input: Pick<SpecInput, 'job' | 'config' | 'spare'>): string {
  return input.config.network_mode ?? input.spare?.network ?? jobNames(input.job).network;
}

/** Whether containers can have network aliases (a bridge-like network, not host/none/container:). */
export function aliasesSupported(network: string): boolean {
  return !['host', 'none', 'bridge', 'default'].includes(network) && !network.startsWith('container:');
}

function networking(
  network: string,
  aliases: string[] = [],
): Pick<Docker.ContainerCreateOptions, 'NetworkingConfig'> {
  if (!aliasesSupported(network)) return {};
  return {
    NetworkingConfig: { EndpointsConfig: { [network]: aliases.length > 0 ? { Aliases: aliases } : {} } },
  };
}

function commonHostConfig(input: SpecInput): Docker.HostConfig {
  const { config } = input;
  const host: Docker.HostConfig = { NetworkMode: networkFor(input) };
  if (config.dns.length > 0) host.Dns = [...config.dns];
  if (config.extra_hosts.length > 0) host.ExtraHosts = [...config.extra_hosts];
  return host;
}

/** The `/cache` mount of the helper: a host folder under cache_dir, or the project's cache volume. */
export function cacheMount(input: Pick<SpecInput, 'job' | 'config'>): string | null {
  const { job, config } = input;
  if (config.disable_cache) return null;
  if (config.cache_dir) {
    return `${config.cache_dir.replace(/\/+$/, '')}/${safe(job.runner.shortToken)}/project-${job.payload.job_info.project_id}:${CACHE_DIR}`;
  }
  return `${jobNames(job).cacheVolume}:${CACHE_DIR}`;
}

/** Binds of `volumes`: "host:container[:mode]" as given; "/path" becomes a named volume. */
export function configBinds(input: Pick<SpecInput, 'job' | 'config'>): string[] {
  const names = jobNames(input.job);
  return input.config.volumes.map((v) =>
    v.includes(':')
      ? v
      : `${input.config.disable_cache ? `${names.prefix}-volume-${pathKey(v)}` : names.projectVolume(v)}:${v}`,
  );
}

/** The builds volume: the job's own, or the one of the spare helper it took over. */
export function buildsVolumeOf(input: Pick<SpecInput, 'job' | 'spare'>): string {
  return input.spare?.buildsVolume ?? jobNames(input.job).buildsVolume;
}

export function helperContainerSpec(input: SpecInput, generation: number): Docker.ContainerCreateOptions {
  const names = jobNames(input.job);
  const binds = [`${buildsVolumeOf(input)}:${BUILDS_DIR}`];
  const cache = cacheMount(input);
  if (cache) binds.push(cache);
  return {
    name: names.helper(generation),
    Image: input.helperImage,
    // Stages are requests on its stdin (helper-protocol.ts), which stays open between attaches.
    Cmd: helperArgv('serve'),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: false,
    Tty: false,
    Labels: jobLabels(input.job, 'helper'),
    // Its output is the stages' job log, which the runner reads from the attach: the engine keeps no copy.
    HostConfig: { ...commonHostConfig(input), Binds: binds, LogConfig: { Type: 'none', Config: {} } },
    ...networking(networkFor(input)),
  };
}

/** One script stage's container: the job image, the shell detection as command, the script on stdin. */
export function buildContainerSpec(
  input: SpecInput,
  image: JobImage | null,
  stage: string,
  sequence: number,
): Docker.ContainerCreateOptions {
  const { config, job } = input;
  const names = jobNames(job);
  const docker = image?.executor_opts?.docker;
  const host: Docker.HostConfig = {
    ...commonHostConfig(input),
    Binds: [`${buildsVolumeOf(input)}:${BUILDS_DIR}`, ...configBinds(input)],
    Privileged: config.privileged,
  };
  if (config.memory) host.Memory = parseMemory(config.memory);
  if (config.cpus) host.NanoCpus = Math.round(Number(config.cpus) * 1e9);
  if (config.shm_size > 0) host.ShmSize = config.shm_size;
  const spec: Docker.ContainerCreateOptions = {
    name: names.build(stage, sequence),
    Image: input.jobImage,
    Cmd: ['sh', '-c', SHELL_DETECTION],
    Labels: jobLabels(job, 'build'),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    HostConfig: host,
    ...networking(networkFor(input)),
  };
  if (image?.entrypoint) spec.Entrypoint = image.entrypoint;
  if (docker?.user) spec.User = docker.user;
  if (docker?.platform) spec.platform = docker.platform;
  return spec;
}

function envList(variables: readonly JobVariable[]): string[] {
  const env = new Map<string, string>();
  for (const v of variables) if (!v.file) env.set(v.key, v.value);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** Network aliases of a service: its `alias` names, then GitLab's derived host names. */
export function serviceAliases(service: JobImage): string[] {
  return [...new Set([...aliasList(service.alias), ...serviceHostnames(service.name)])];
}

export function serviceContainerSpec(
  input: SpecInput,
  service: JobImage,
  index: number,
): Docker.ContainerCreateOptions {
  const { job, config } = input;
  const host: Docker.HostConfig = { ...commonHostConfig(input), Privileged: config.privileged };
  if (config.shm_size > 0) host.ShmSize = config.shm_size;
  const spec: Docker.ContainerCreateOptions = {
    name: jobNames(job).service(index, service.name),
    Image: service.name,
    Env: envList([...job.variables.filter((v) => v.public), ...(service.variables ?? [])]),
    Labels: { ...jobLabels(job, 'service'), 'com.flotilla.service': withoutTag(service.name) },
    HostConfig: host,
    ...networking(networkFor(input), serviceAliases(service)),
  };
  if (service.entrypoint) spec.Entrypoint = service.entrypoint;
  if (service.command) spec.Cmd = service.command;
  if (service.executor_opts?.docker?.user) spec.User = service.executor_opts.docker.user;
  if (service.executor_opts?.docker?.platform) spec.platform = service.executor_opts.docker.platform;
  return spec;
}

export function networkSpec(job: ExecutorJob): Docker.NetworkCreateOptions {
  return { Name: jobNames(job).network, CheckDuplicate: true, Labels: jobLabels(job, 'network') };
}

export function volumeSpec(job: ExecutorJob, name: string, type: ObjectType): Docker.VolumeCreateOptions {
  return { Name: name, Labels: jobLabels(job, type) };
}
