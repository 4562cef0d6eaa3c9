import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * URL namespace of the REST API served by the submarine_hub jupyter-server
 * extension (which forwards the calls to the platform service).
 */
export const API_NAMESPACE = 'submarine/api/v1';

/**
 * A team the current user belongs to.
 */
export interface ITeam {
  name: string;
  description?: string;
}

/**
 * The reply of `GET submarine/api/v1/me`.
 */
export interface IMe {
  name: string;
  admin: boolean;
  teams: ITeam[];
  scopes?: string[];
  server_time?: string;
}

/**
 * Error thrown when the server answers with a non-2xx status.
 *
 * `message` is the server's JSON `message` field when there is one.
 */
export class SubmarineAPIError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'SubmarineAPIError';
  }
}

/**
 * Pick a person-readable message out of an error reply body.
 */
function errorMessage(body: unknown, response: Response): string {
  if (body && typeof body === 'object') {
    const { message, reason } = body as { message?: unknown; reason?: unknown };
    if (typeof message === 'string' && message) {
      return message;
    }
    if (typeof reason === 'string' && reason) {
      return reason;
    }
  }
  if (typeof body === 'string' && body.trim()) {
    return body.trim();
  }
  return response.statusText || `HTTP ${response.status}`;
}

/**
 * Call the Submarine REST API.
 *
 * @param path - path below `submarine/api/v1`, e.g. `me`
 * @param init - initial values for the request
 * @param settings - server connection settings (defaults to the page's)
 * @returns the parsed JSON reply (or `undefined` for an empty body)
 * @throws SubmarineAPIError on a non-2xx reply; ServerConnection.NetworkError
 *   when the server cannot be reached at all
 */
export async function requestAPI<T>(
  path = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, path);
  const response = await ServerConnection.makeRequest(url, init, settings);

  const text = await response.text();
  let body: unknown = undefined;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }

  if (!response.ok) {
    throw new SubmarineAPIError(errorMessage(body, response), response.status);
  }
  return body as T;
}

/**
 * Fetch who the current user is and the teams they belong to.
 */
export function getMe(settings?: ServerConnection.ISettings): Promise<IMe> {
  return requestAPI<IMe>('me', { method: 'GET' }, settings);
}
