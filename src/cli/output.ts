/** The CLI's own output to the terminal (the only place besides logs that writes to stdout/stderr). */
export function say(line: string): void {
  process.stdout.write(line + '\n');
}

export function warn(line: string): void {
  process.stderr.write(line + '\n');
}
