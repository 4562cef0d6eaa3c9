import fixture from '../../../tests/fixtures/spaces.json';
import { areaOf, spaceOf, teamOf } from '../spaces';

/**
 * The table the Python rule (submarine_hub/core/spaces.py) is held to in
 * tests/test_spaces.py: the lab's rule must give every row the same way.
 */
describe('the path-to-space rule', () => {
  it.each(fixture.cases)('keeps $path in $space', c => {
    expect(spaceOf(c.path, fixture.user)).toEqual({ space: c.space, path: c.rel });
    expect(areaOf(c.path)).toBe(c.area);
    expect(teamOf(c.path)).toBe(c.team);
  });
});
