import { describe, expect, it } from 'vitest';

import { unsafeEntryName, unsafeSymlinkTarget } from './archive-paths.js';

describe('archive entry names', () => {
  it.each([
    ['../evil', 'a ".." segment'],
    ['a/../../evil', 'a ".." segment'],
    ['a\\..\\..\\evil', 'a ".." segment'],
    ['/etc/passwd', 'an absolute path'],
    ['C:/evil', 'an absolute path'],
    ['', 'an empty name'],
    ['a\0b', 'a NUL byte in its name'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(unsafeEntryName(name)).toBe(reason);
  });

  it.each(['a.txt', 'dir/', 'dir/sub/b.bin', 'a..b', '.hidden/..x'])('accepts %j', (name) => {
    expect(unsafeEntryName(name)).toBeNull();
  });
});

describe('symlink targets', () => {
  it.each([
    ['link', '/etc/passwd'],
    ['link', '..'],
    ['dir/link', '../../x'],
    ['dir/link', '../dir/../../x'],
  ])('refuses %s -> %s', (name, target) => {
    expect(unsafeSymlinkTarget(name, target)).not.toBeNull();
  });

  it.each([
    ['link', 'file'],
    ['dir/link', '../file'],
    ['dir/link', './sub/../x'],
  ])('accepts %s -> %s', (name, target) => {
    expect(unsafeSymlinkTarget(name, target)).toBeNull();
  });
});
