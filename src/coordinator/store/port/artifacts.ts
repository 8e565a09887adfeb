/** Artifact records of jobs (the files live in artifact storage): the artifacts aggregate of the store port. */

export interface ArtifactRecord {
  id: number;
  jobId: number;
  fileType: string;
  fileFormat: string;
  filename: string;
  size: number;
  /** Storage key, relative to the artifacts root. */
  storageKey: string;
  createdAt: Date;
  expireAt: Date | null;
}

export type NewArtifact = Omit<ArtifactRecord, 'id' | 'createdAt'>;

export interface ArtifactStore {
  addArtifact(input: NewArtifact): Promise<ArtifactRecord>;
  listArtifacts(jobId: number): Promise<ArtifactRecord[]>;
}
