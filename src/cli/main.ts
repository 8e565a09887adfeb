import { Command, CommanderError } from 'commander';

import { errorMessage, isFlotillaError } from '../shared/errors.js';
import { registerCoordinatorCommand } from './coordinator-command.js';
import { registerFleetCommand } from './fleet-command.js';
import { registerLintCommand } from './lint-command.js';
import { registerRunCommand } from './run-command.js';
import { registerRunnerCommand } from './runner-command.js';
import { registerUpCommand } from './up-command.js';

/** Builds the `flotilla` command tree. Each command lives in its own `*-command.ts` file. */
export function buildProgram(): Command {
  const program = new Command('flotilla')
    .description('Flotilla: a GitLab-compatible CI coordinator and runner fleet')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerCoordinatorCommand(program);
  registerLintCommand(program);
  registerRunnerCommand(program);
  registerRunCommand(program);
  registerUpCommand(program);
  registerFleetCommand(program);
  return program;
}

/** Entry point: parses argv, runs the command, returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const code = isFlotillaError(err) ? ` [${err.code}]` : '';
    process.stderr.write(`flotilla: ${errorMessage(err)}${code}\n`);
    return 1;
  }
}
