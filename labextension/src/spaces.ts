/**
 * Which platform space keeps a file of the session's tree: the one rule, as
 * `submarine_hub/core/spaces.py` states it (`tests/fixtures/spaces.json` holds
 * both to the same table).
 *
 * - `teams/<team>/<path>` is `<path>` in `team:<team>` (a team folder);
 * - `shared/users/<owner>/<path>` and `shared/teams/<team>/<path>` are `<path>`
 *   in `user:<owner>` and `team:<team>` (files others shared with you);
 * - anything else is the path itself in your own space, `user:<you>`.
 *
 * An area's top folder with no file below it (`teams/<team>`) is no file of
 * that area: it falls to the personal rule like any other path.
 */

/** The top folder of the team folders. */
export const TEAMS = 'teams';
/** The top folder of the files shared with you. */
export const SHARED = 'shared';
/** `shared/<folder>/`: the kind of space each folder holds. */
export const SHARED_KINDS: ReadonlyMap<string, 'user' | 'team'> = new Map([
  ['users', 'user'],
  ['teams', 'team']
]);

/** The kind of folder a file is in. */
export type Area = 'personal' | 'team' | 'shared';

/** A file as the platform names it: its space and its path in that space. */
export interface ILocation {
  space: string;
  path: string;
}

function split(path: string): { area: Area; space: string; rest: string[] } {
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length >= 2 && parts[0] === TEAMS && parts[1]) {
    return { area: 'team', space: `team:${parts[1]}`, rest: parts.slice(2) };
  }
  const kind = parts[0] === SHARED ? SHARED_KINDS.get(parts[1]) : undefined;
  if (parts.length >= 3 && kind && parts[2]) {
    return { area: 'shared', space: `${kind}:${parts[2]}`, rest: parts.slice(3) };
  }
  return { area: 'personal', space: 'user:', rest: parts };
}

/** The area the file `path` of the session's tree is in. */
export function areaOf(path: string): Area {
  const { area, rest } = split(path);
  return rest.length ? area : 'personal';
}

/** `{space, path}` of the file `path` of `user`'s session tree. */
export function spaceOf(path: string, user: string): ILocation {
  const { area, space, rest } = split(path);
  if (area === 'personal' || !rest.length) {
    return { space: `user:${user}`, path: path.replace(/^\/+|\/+$/g, '') };
  }
  return { space, path: rest.join('/') };
}

/** The team whose space keeps `path` (a team folder's, or a file a team shared), or null. */
export function teamOf(path: string): string | null {
  const { space } = spaceOf(path, '');
  return space.startsWith('team:') ? space.slice('team:'.length) : null;
}
