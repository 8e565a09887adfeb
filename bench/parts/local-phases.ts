/**
 * Where `flotilla run`'s wall time goes, from the timestamps of its `--verbose` log lines (the
 * embedded coordinator's and runner's logs, `2026-…Z INFO  message …`):
 * - start: process spawn → first log line (Node start, module loading, store open)
 * - services: → `runner manager started` (store migration, runner registration, both services up)
 * - push: → `pipeline created` (project creation, git push, pipeline compilation)
 * - pickup: → first `job assigned to runner`
 * - jobs: → last `job finished` (every job's own run, including the later pickups)
 * - finish: → process exit (pipeline summary, shutdown)
 */
export const PHASES = ['start', 'services', 'push', 'pickup', 'jobs', 'finish'] as const;
export type Phase = (typeof PHASES)[number];

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \w+\s+(.*)$/;

/** Milliseconds per phase, or null when the log lacks one of the marks. */
export function runPhases(
  output: string,
  spawnedAtMs: number,
  exitedAtMs: number,
): Record<Phase, number> | null {
  const marks: { at: number; message: string }[] = [];
  for (const line of output.split('\n')) {
    const m = LINE.exec(line);
    if (m?.[1] && m[2] !== undefined) marks.push({ at: Date.parse(m[1]), message: m[2] });
  }
  const first = (text: string): number | undefined => marks.find((x) => x.message.startsWith(text))?.at;
  const last = (text: string): number | undefined =>
    [...marks].reverse().find((x) => x.message.startsWith(text))?.at;
  const points = [
    spawnedAtMs,
    marks[0]?.at,
    first('runner manager started'),
    first('pipeline created'),
    first('job assigned to runner'),
    last('job finished'),
    exitedAtMs,
  ];
  if (points.some((p) => p === undefined)) return null;
  const at = points as number[];
  const out = {} as Record<Phase, number>;
  PHASES.forEach((phase, i) => {
    out[phase] = (at[i + 1] ?? 0) - (at[i] ?? 0);
  });
  return out;
}
