/**
 * Where config.toml lives when `--config` is not given: `/etc/flotilla/config.toml` for root,
 * `~/.flotilla/config.toml` for everyone else (gitlab-runner's convention with our name).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultConfigPath(
  uid: number | undefined = process.getuid?.(),
  home: string = homedir(),
): string {
  return uid === 0 ? '/etc/flotilla/config.toml' : join(home, '.flotilla', 'config.toml');
}
