const makeRequest = jest.fn();

jest.mock('@jupyterlab/services', () => ({
  ServerConnection: {
    makeSettings: () => ({ baseUrl: 'http://localhost:8888/' }),
    makeRequest: (...args: unknown[]) => makeRequest(...args)
  }
}));

jest.mock('@jupyterlab/coreutils', () => ({
  URLExt: {
    join: (...parts: string[]) =>
      parts
        .filter(part => part.length > 0)
        .map((part, i) => (i === 0 ? part.replace(/\/+$/, '') : part.replace(/^\/+|\/+$/g, '')))
        .join('/')
  }
}));

import { SubmarineAPIError, getMe, requestAPI } from '../api';

function reply(status: number, body: string, statusText = ''): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    text: async () => body
  } as unknown as Response;
}

describe('requestAPI', () => {
  beforeEach(() => makeRequest.mockReset());

  it('GETs <baseUrl>submarine/api/v1/me and parses the JSON reply', async () => {
    const me = { name: 'alice', admin: false, teams: [] };
    makeRequest.mockResolvedValue(reply(200, JSON.stringify(me)));
    await expect(getMe()).resolves.toEqual(me);
    expect(makeRequest).toHaveBeenCalledTimes(1);
    expect(makeRequest.mock.calls[0][0]).toBe('http://localhost:8888/submarine/api/v1/me');
    expect(makeRequest.mock.calls[0][1]).toEqual({ method: 'GET' });
  });

  it('uses the given server settings', async () => {
    makeRequest.mockResolvedValue(reply(200, '{}'));
    const settings = { baseUrl: 'http://example.test/user/alice/' } as any;
    await requestAPI('me', {}, settings);
    expect(makeRequest.mock.calls[0][0]).toBe('http://example.test/user/alice/submarine/api/v1/me');
    expect(makeRequest.mock.calls[0][2]).toBe(settings);
  });

  it("throws an Error carrying the server's JSON message on non-2xx", async () => {
    makeRequest.mockResolvedValue(
      reply(403, JSON.stringify({ message: 'not allowed', reason: 'Forbidden' }), 'Forbidden')
    );
    const err = (await requestAPI('me').catch(e => e)) as SubmarineAPIError;
    expect(err).toBeInstanceOf(SubmarineAPIError);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('not allowed');
    expect(err.status).toBe(403);
  });

  it('falls back to the body text or the status text', async () => {
    makeRequest.mockResolvedValue(reply(500, 'Internal Server Error'));
    await expect(requestAPI('me')).rejects.toThrow('Internal Server Error');
    makeRequest.mockResolvedValue(reply(502, '', 'Bad Gateway'));
    await expect(requestAPI('me')).rejects.toThrow('Bad Gateway');
    makeRequest.mockResolvedValue(reply(503, ''));
    await expect(requestAPI('me')).rejects.toThrow('HTTP 503');
  });

  it('passes network errors through', async () => {
    makeRequest.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(requestAPI('me')).rejects.toThrow('Failed to fetch');
  });
});
