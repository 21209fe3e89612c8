import { describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/store/object-cache.ts';

describe('ObjectCache', () => {
  it('never lets an older version replace a newer one, and remembers deletions', () => {
    const cache = new ObjectCache();
    cache.put('Tier', 1, 3, { ID: 1, Version: 3 });
    cache.put('Tier', 1, 2, { ID: 1, Version: 2 }); // a slow read of the row before the write
    expect(cache.get('Tier', 1)).toEqual({ ID: 1, Version: 3 });
    cache.put('Tier', 1, 4);
    expect(cache.get('Tier', 1)).toBeNull();
    cache.put('Tier', 1, 3, { ID: 1, Version: 3 });
    expect(cache.get('Tier', 1)).toBeNull();
    expect(cache.get('Tier', 2)).toBeUndefined();
    cache.put('Profile', 9, 1, { ID: 9 });
    expect(Object.isFrozen(cache.get('Profile', 9)), 'callers cannot change what others will read').toBe(true);
  });

  it('keeps the most recently used entries within its capacity', () => {
    const cache = new ObjectCache(2);
    cache.put('Tier', 1, 1, { ID: 1 });
    cache.put('Tier', 2, 1, { ID: 2 });
    cache.get('Tier', 1);
    cache.put('Tier', 3, 1, { ID: 3 });
    expect(cache.get('Tier', 2)).toBeUndefined();
    expect(cache.get('Tier', 1)).toEqual({ ID: 1 });
    expect(cache.get('Tier', 3)).toEqual({ ID: 3 });
  });
});
