import { describe, expect, it } from 'vitest';

import { createFakeClock } from '../../test/kits/fake-clock.js';
import { createAnnouncementBox } from './announcements.js';

describe('announcement box', () => {
  it('stamps an announcement with stages with the time it came, so their ages can grow', () => {
    const clock = createFakeClock();
    const box = createAnnouncementBox(clock);
    const stages = [{ next: 2, unfinished: 1, elapsedMs: 0 }];
    box.jobs({ created: 2, next: 2, uncovered: 1, stages });
    expect(box.latest()).toEqual({ created: 2, next: 2, uncovered: 1, stages, atMs: clock.now().getTime() });
    box.jobs({ created: 1, next: 1, uncovered: 0 });
    expect(box.latest()).toEqual({ created: 1, next: 1, uncovered: 0 });
    box.jobs(undefined);
    expect(box.latest()).toBeUndefined();
  });
});
