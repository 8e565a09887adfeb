/**
 * A scripted executor for tests of the runner manager (no processes): each stage's exit code, a
 * failing `prepare`, or a stage that runs until it is aborted. Records every call.
 */
import type {
  BuildStage,
  Executor,
  ExecutorFactory,
  ExecutorJob,
  StageContext,
} from '../../../src/executors/executor.js';

export type FakeStageBehaviour = number | 'hang' | Error;

export interface FakeExecutorScript {
  prepare?: Error;
  /** A list: one behaviour per run of the stage, the last one repeated (attempt tests). */
  stages?: Partial<Record<BuildStage, FakeStageBehaviour | FakeStageBehaviour[]>>;
  /** Text written to the job log by each stage that runs. */
  output?: Partial<Record<BuildStage, string>>;
}

export interface FakeExecutorFactory extends ExecutorFactory {
  /** `prepare`, stage names and `cleanup`, in call order, across all jobs. */
  readonly calls: string[];
  readonly jobs: ExecutorJob[];
}

function hang(ctx: StageContext): Promise<number> {
  return new Promise((_resolve, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}

export function createFakeExecutorFactory(script: FakeExecutorScript = {}): FakeExecutorFactory {
  const calls: string[] = [];
  const jobs: ExecutorJob[] = [];
  const runs = new Map<BuildStage, number>();
  function behaviourOf(stage: BuildStage): FakeStageBehaviour {
    const planned = script.stages?.[stage] ?? 0;
    if (!Array.isArray(planned)) return planned;
    const run = runs.get(stage) ?? 0;
    runs.set(stage, run + 1);
    return planned[Math.min(run, planned.length - 1)] ?? 0;
  }
  function create(job: ExecutorJob): Executor {
    jobs.push(job);
    return {
      async prepare(ctx) {
        calls.push('prepare');
        ctx.output.write(script.output?.prepare_executor ?? '');
        if (script.prepare) throw script.prepare;
      },
      async runStage(stage, ctx) {
        calls.push(stage);
        ctx.output.write(script.output?.[stage] ?? '');
        const behaviour = behaviourOf(stage);
        if (behaviour === 'hang') return { exitCode: await hang(ctx) };
        if (behaviour instanceof Error) throw behaviour;
        return { exitCode: behaviour };
      },
      async cleanup() {
        calls.push('cleanup');
      },
    };
  }
  return { name: 'shell', shell: 'bash', features: { fake: true }, calls, jobs, create };
}
