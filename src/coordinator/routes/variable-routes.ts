/** REST: project CI/CD variables, with GitLab's masking rules. */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { VariableRecord } from '../store/store.js';
import { bodyOf, bool, str, type Body } from './http-helpers.js';
import { presentVariable } from './presenters.js';
import { auth, resolveProject } from './project-routes.js';

const KEY_RE = /^[A-Za-z0-9_]{1,255}$/;
const MASKABLE_RE = /^[a-zA-Z0-9_+=/@:.~-]{8,}$/;

function invalid(field: string, message: string): FlotillaError {
  return new FlotillaError('FLO_ERR_BAD_REQUEST', 'validation failed', {
    details: { fields: { [field]: [message] } },
  });
}

function validate(v: Pick<VariableRecord, 'key' | 'value' | 'masked'>): void {
  if (!KEY_RE.test(v.key)) throw invalid('key', "can contain only letters, digits and '_'.");
  if (v.masked && !MASKABLE_RE.test(v.value)) {
    throw invalid(
      'value',
      'is invalid: a masked value must be at least 8 characters of a-z A-Z 0-9 _ + = / @ : . ~ -',
    );
  }
}

function readFields(body: Body): Partial<Omit<VariableRecord, 'projectId' | 'key'>> {
  const type = str(body, 'variable_type');
  if (type !== undefined && type !== 'env_var' && type !== 'file')
    throw invalid('variable_type', 'does not have a valid value');
  const out: Partial<Omit<VariableRecord, 'projectId' | 'key'>> = {};
  const value = str(body, 'value');
  if (value !== undefined) out.value = value;
  if (type) out.variableType = type;
  const p = bool(body, 'protected');
  if (p !== undefined) out.protected = p;
  const m = bool(body, 'masked');
  if (m !== undefined) out.masked = m;
  const r = bool(body, 'raw');
  if (r !== undefined) out.raw = r;
  const scope = str(body, 'environment_scope');
  if (scope !== undefined) out.environmentScope = scope;
  const description = str(body, 'description');
  if (description !== undefined) out.description = description;
  return out;
}

async function target(ctx: CoordinatorContext, request: FastifyRequest) {
  await auth(ctx, request);
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const query = request.query as Record<string, unknown>;
  const filter = query['filter[environment_scope]'];
  const scope = typeof filter === 'string' ? filter : '*';
  return { project, key: params['key'] ?? '', scope };
}

function notFound(): FlotillaError {
  return new FlotillaError('FLO_ERR_NOT_FOUND', '404 Variable Not Found');
}

export function registerVariableRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/projects/:id/variables', async (request) => {
    const { project } = await target(ctx, request);
    return (await ctx.store.listVariables(project.id)).map(presentVariable);
  });
  app.get('/api/v4/projects/:id/variables/:key', async (request) => {
    const { project, key, scope } = await target(ctx, request);
    const v = await ctx.store.getVariable(project.id, key, scope);
    if (!v) throw notFound();
    return presentVariable(v);
  });
  app.post('/api/v4/projects/:id/variables', async (request, reply) => {
    const { project } = await target(ctx, request);
    const body = bodyOf(request);
    const fields = readFields(body);
    const record: VariableRecord = {
      projectId: project.id,
      key: str(body, 'key') ?? '',
      value: fields.value ?? '',
      variableType: fields.variableType ?? 'env_var',
      protected: fields.protected ?? false,
      masked: fields.masked ?? false,
      raw: fields.raw ?? false,
      environmentScope: fields.environmentScope ?? '*',
      description: fields.description ?? null,
    };
    validate(record);
    if (await ctx.store.getVariable(project.id, record.key, record.environmentScope)) {
      throw invalid('key', `(${record.key}) has already been taken`);
    }
    return reply.code(201).send(presentVariable(await ctx.store.createVariable(record)));
  });
  app.put('/api/v4/projects/:id/variables/:key', async (request) => {
    const { project, key, scope } = await target(ctx, request);
    const existing = await ctx.store.getVariable(project.id, key, scope);
    if (!existing) throw notFound();
    const fields = readFields(bodyOf(request));
    validate({ key, value: fields.value ?? existing.value, masked: fields.masked ?? existing.masked });
    const updated = await ctx.store.updateVariable(project.id, key, existing.environmentScope, fields);
    if (!updated) throw notFound();
    return presentVariable(updated);
  });
  app.delete('/api/v4/projects/:id/variables/:key', async (request, reply) => {
    const { project, key, scope } = await target(ctx, request);
    if (!(await ctx.store.deleteVariable(project.id, key, scope))) throw notFound();
    return reply.code(204).send();
  });
}
