/**
 * The `[runners.docker]` table of config.toml: gitlab-runner's key names and defaults for the keys the
 * docker executor implements. The lead's config schema embeds `dockerConfigSchema` as the optional
 * `docker` key of a `[[runners]]` entry.
 */
import { z } from 'zod';

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

const MEMORY = /^\d+(\.\d+)?\s*([bkmgt]i?b?)?$/i;

const pullPolicy = z.enum(PULL_POLICIES, {
  errorMap: () => ({ message: `must be one of: ${PULL_POLICIES.join(', ')}` }),
});

function stringList(what: string): z.ZodDefault<z.ZodArray<z.ZodString>> {
  return z
    .array(z.string({ invalid_type_error: `must be ${what}` }), {
      invalid_type_error: `must be an array of ${what}`,
    })
    .default([]);
}

export const dockerConfigSchema = z
  .object({
    host: z
      .string()
      .regex(
        /^(unix:\/\/\/.+|tcp:\/\/[^/]+|https?:\/\/[^/]+)$/,
        'must look like "unix:///var/run/docker.sock" or "tcp://host:2376"',
      )
      .optional()
      .describe(
        'The Docker Engine to use: "unix:///path" or "tcp://host:port"; default $DOCKER_HOST or the local socket.',
      ),
    tls_verify: z
      .boolean()
      .default(false)
      .describe('Use TLS and verify the engine with ca.pem from tls_cert_path (tcp hosts).'),
    tls_cert_path: z
      .string()
      .optional()
      .describe('Folder with ca.pem, cert.pem and key.pem for a TLS engine; default $DOCKER_CERT_PATH.'),
    image: z.string().min(1).optional().describe('The image of jobs that do not name one.'),
    privileged: z
      .boolean()
      .default(false)
      .describe('Run job and service containers privileged. Off unless turned on here.'),
    volumes: stringList('"path", "host:path" or "host:path:ro" strings').describe(
      'Extra volumes of the job container: "/path" (a volume kept per project) or "host:container[:ro]" binds.',
    ),
    pull_policy: z
      .union([pullPolicy, z.array(pullPolicy).min(1, 'must list at least one pull policy')])
      .default('always')
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .describe('When images are pulled: always, if-not-present, never, or several tried in order.'),
    allowed_images: stringList('image patterns').describe(
      'Images jobs may use (globs: * within a path part, ** across); empty allows any.',
    ),
    allowed_services: stringList('image patterns').describe(
      'Service images jobs may use (globs as allowed_images); empty allows any.',
    ),
    allowed_pull_policies: z
      .array(pullPolicy)
      .default([])
      .describe('Pull policies a job may ask for in .gitlab-ci.yml; empty means those of pull_policy.'),
    network_mode: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Attach containers to this network ("host", "none" or a network name) instead of a per-job network.',
      ),
    coordinator_forwarding: z
      .enum(['auto', 'always', 'never'], {
        errorMap: () => ({ message: 'must be one of: auto, always, never' }),
      })
      .default('auto')
      .describe(
        'How per-job networks reach the coordinator: "always" through a forwarder on the job network\'s gateway, "never" directly, "auto" forwards when the runner url is a loopback address.',
      ),
    memory: z
      .string()
      .regex(MEMORY, 'must be a size such as "512m" or "2g"')
      .optional()
      .describe('Memory limit of the job container, e.g. "512m".'),
    cpus: z
      .union([z.string().regex(/^\d+(\.\d+)?$/, 'must be a number such as "1.5"'), z.number().positive()])
      .transform(String)
      .optional()
      .describe('CPU limit of the job container, e.g. "1.5".'),
    shm_size: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Size of /dev/shm in bytes; 0 means the engine default.'),
    dns: stringList('IP addresses').describe('DNS servers of the containers.'),
    extra_hosts: stringList('"host:IP" strings').describe('Extra /etc/hosts entries, as "host:IP".'),
    helper_image: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The helper image that fetches sources, caches and artifacts; default flotilla-helper:<version>.',
      ),
    spare_helper: z
      .boolean()
      .default(true)
      .describe(
        "Make the next job's helper container (and fresh builds volume) while a job runs its script, for the next job of the same project; false makes each job create its own at pickup. Flotilla only.",
      ),
    wait_for_services_timeout: z
      .number()
      .int()
      .min(-1)
      .default(30)
      .describe(
        'Seconds to wait for each service to accept connections on its first exposed port; -1 turns waiting off.',
      ),
    disable_cache: z
      .boolean()
      .default(false)
      .describe('Turn the local cache store (and volumes kept per project) off.'),
    cache_dir: z
      .string()
      .optional()
      .describe(
        'Host folder for the local cache (one subfolder per runner and project); default a Docker volume per project.',
      ),
  })
  .strict()
  .describe('[runners.docker]: how the docker executor runs jobs.');

export type DockerConfig = Readonly<z.output<typeof dockerConfigSchema>>;
export type DockerConfigInput = z.input<typeof dockerConfigSchema>;
