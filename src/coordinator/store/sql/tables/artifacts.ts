/** Artifact metadata; the files themselves live in artifact storage under `storageKey`. */
import { toDateOrNull } from '../flavor.js';
import type { SqlContext } from '../flavor.js';
import type { ArtifactRecord, NewArtifact } from '../../store.js';
import { translateConstraints } from '../errors.js';
import { toArtifact } from '../rows.js';
import { runTemplate } from '../query-template.js';
import type { ArtifactsTable } from '../schema.js';
import type { Selectable } from 'kysely';

export async function addArtifact(ctx: SqlContext, input: NewArtifact): Promise<ArtifactRecord> {
  const { db, flavor } = ctx;
  const row = await translateConstraints('this artifact exists', () =>
    db
      .insertInto('artifacts')
      .values({
        job_id: input.jobId,
        file_type: input.fileType,
        file_format: input.fileFormat,
        filename: input.filename,
        size: input.size,
        storage_key: input.storageKey,
        created_at: flavor.toDate(ctx.now()),
        expire_at: toDateOrNull(flavor, input.expireAt),
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toArtifact(row);
}

export async function listArtifacts(ctx: SqlContext, jobId: number): Promise<ArtifactRecord[]> {
  const rows = await runTemplate<Selectable<ArtifactsTable>>(ctx, 'listArtifacts', [jobId], (slot) =>
    ctx.db.selectFrom('artifacts').selectAll().where('job_id', '=', slot(0)).orderBy('id'),
  );
  return rows.map(toArtifact);
}
