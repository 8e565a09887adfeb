/**
 * `image` and `services[]` of a job payload in GitLab's full shapes (its JobRequest::Image and
 * JobRequest::Service entities): every field present, null or empty when the job sets none, so a
 * runner written against GitLab sees what GitLab would send.
 */
import type { JobImage, JobVariable } from '../../../api/runner-api.js';
import type { ImageDefinition } from '../../../pipeline/types.js';

export type PayloadImage = Required<
  Pick<JobImage, 'name' | 'entrypoint' | 'ports' | 'executor_opts' | 'pull_policy'>
>;
export type PayloadService = PayloadImage & Required<Pick<JobImage, 'alias' | 'command' | 'variables'>>;

function base(def: ImageDefinition): PayloadImage {
  return {
    name: def.name,
    entrypoint: def.entrypoint ?? null,
    ports: [],
    executor_opts: def.docker ? { docker: def.docker } : {},
    pull_policy: def.pullPolicy ?? null,
  };
}

export function payloadImage(def: ImageDefinition | null): PayloadImage | null {
  return def ? base(def) : null;
}

export function payloadService(def: ImageDefinition): PayloadService {
  const variables: JobVariable[] = (def.variables ?? []).map((v) => ({
    key: v.key,
    value: v.value,
    public: true,
    masked: false,
  }));
  return { ...base(def), alias: def.alias ?? null, command: def.command ?? null, variables };
}
