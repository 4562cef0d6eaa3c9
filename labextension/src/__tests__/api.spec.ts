jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);

import { makeRequest } from './fakejupyter';

import {
  SubmarineAPI,
  SubmarineAPIError,
  getMe,
  isFinal,
  requestAPI,
  scopedPath,
  withQuery
} from '../api';

function reply(status: number, body: string | Uint8Array, statusText = ''): Response {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    text: async () => new TextDecoder().decode(bytes),
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
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

describe('error replies', () => {
  beforeEach(() => makeRequest.mockReset());

  it("does not show a proxy's HTML error page as the message", async () => {
    makeRequest.mockResolvedValue(
      reply(502, '<html><body>Bad Gateway</body></html>', 'Bad Gateway')
    );
    await expect(requestAPI('me')).rejects.toThrow(/^Bad Gateway$/);
  });

  it("keeps the platform's {status, message} as it is", async () => {
    makeRequest.mockResolvedValue(
      reply(
        400,
        JSON.stringify({
          status: 400,
          message: "Bad template parameters: 'n_estimators' must be at most 2000, not 5000."
        })
      )
    );
    const api = new SubmarineAPI();
    const err = await api.runTemplate('sklearn-classifier', {}).catch(e => e);
    expect(err).toBeInstanceOf(SubmarineAPIError);
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      "Bad template parameters: 'n_estimators' must be at most 2000, not 5000."
    );
  });
});

describe('helpers', () => {
  it('builds query strings, leaving out empty values', () => {
    expect(
      withQuery('experiments', { status: ['running', 'pending'], owner: undefined, limit: 50 })
    ).toBe('experiments?status=running%2Cpending&limit=50');
    expect(withQuery('experiments', { status: [], tag: '' })).toBe('experiments');
    expect(withQuery('files/versions', { space: 'user:alice', path: 'a b/c.ipynb' })).toBe(
      'files/versions?space=user%3Aalice&path=a%20b%2Fc.ipynb'
    );
  });

  it('names scopes and final states', () => {
    expect(scopedPath('sklearn-classifier')).toBe('_global/sklearn-classifier');
    expect(scopedPath('data-science/echo')).toBe('data-science/echo');
    expect(['pending', 'running', 'succeeded', 'failed', 'killed'].map(isFinal)).toEqual([
      false,
      false,
      true,
      true,
      true
    ]);
  });
});

describe('SubmarineAPI', () => {
  const base = 'http://localhost:8888/submarine/api/v1/';
  beforeEach(() => makeRequest.mockReset());

  it('lists runs with filters and latest metrics', async () => {
    makeRequest.mockResolvedValue(reply(200, JSON.stringify({ items: [], next: null })));
    await new SubmarineAPI().listExperiments({
      status: ['failed'],
      owner: 'alice',
      limit: 50,
      metrics: '1'
    });
    expect(makeRequest.mock.calls[0][0]).toBe(
      `${base}experiments?status=failed&owner=alice&limit=50&metrics=1`
    );
  });

  it('runs a template with a JSON body', async () => {
    makeRequest.mockResolvedValue(reply(201, JSON.stringify({ id: 7, status: 'pending' })));
    const run = await new SubmarineAPI().runTemplate('sklearn-classifier', {
      parameters: { dataset: 'wine' }
    });
    expect(run.id).toBe(7);
    const [url, init] = makeRequest.mock.calls[0];
    expect(url).toBe(`${base}templates/_global/sklearn-classifier/runs`);
    expect(init.method).toBe('POST');
    expect(init.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(JSON.parse(init.body)).toEqual({ parameters: { dataset: 'wine' } });
  });

  it('reads a log from an offset, as bytes', async () => {
    makeRequest.mockResolvedValue(reply(200, 'über\n'));
    const chunk = await new SubmarineAPI().readLog(3, 'main-0', 12);
    expect(makeRequest.mock.calls[0][0]).toBe(`${base}experiments/3/logs?name=main-0&offset=12`);
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect(chunk.length).toBe(6);
  });

  it('fetches metric history and versioned-file data', async () => {
    makeRequest.mockResolvedValue(
      reply(200, JSON.stringify({ key: 'acc', points: [{ step: 0, value: 1 }] }))
    );
    const api = new SubmarineAPI();
    await expect(api.metricHistory(3, 'acc')).resolves.toEqual([{ step: 0, value: 1 }]);
    expect(makeRequest.mock.calls[0][0]).toBe(
      `${base}experiments/3/metrics?key=acc&max_points=500`
    );
    makeRequest.mockResolvedValue(reply(200, JSON.stringify({ summary: {}, text: '' })));
    await api.diff('user:alice', 'a.ipynb', 1, 3, { ignoreOutputs: true });
    expect(makeRequest.mock.calls[1][0]).toBe(
      `${base}files/diff?space=user%3Aalice&path=a.ipynb&a=1&b=3&ignore_outputs=1`
    );
    makeRequest.mockResolvedValue(reply(201, JSON.stringify({ number: 4 })));
    await api.restore('team:ds', 'r.ipynb', 2, 'why');
    expect(JSON.parse(makeRequest.mock.calls[2][1].body)).toEqual({
      space: 'team:ds',
      path: 'r.ipynb',
      version: 2,
      message: 'why'
    });
  });

  it('packs a folder in the session, then uploads it', async () => {
    const gz = new Uint8Array([0x1f, 0x8b, 1, 2, 3]);
    makeRequest
      .mockResolvedValueOnce(reply(200, gz))
      .mockResolvedValueOnce(reply(201, JSON.stringify({ id: 'abc' })));
    await expect(new SubmarineAPI().uploadFolder('project')).resolves.toBe('abc');
    expect(makeRequest.mock.calls[0][0]).toBe(
      'http://localhost:8888/submarine/code-archive?path=project'
    );
    const [url, init] = makeRequest.mock.calls[1];
    expect(url).toBe(`${base}uploads`);
    expect(init.headers).toEqual({ 'Content-Type': 'application/gzip' });
    expect(init.body).toBeInstanceOf(Blob);
    expect((init.body as Blob).size).toBe(5);
  });

  it('says why a folder cannot be packed', async () => {
    makeRequest.mockResolvedValue(
      reply(
        413,
        JSON.stringify({ status: 413, message: 'project packs to more than 16777216 bytes' })
      )
    );
    await expect(new SubmarineAPI().uploadFolder('project')).rejects.toThrow(
      'project packs to more than 16777216 bytes'
    );
  });

  it('remembers who you are, but asks again after a failure', async () => {
    const api = new SubmarineAPI();
    makeRequest.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await expect(api.me()).rejects.toThrow('Failed to fetch');
    makeRequest.mockResolvedValue(
      reply(200, JSON.stringify({ name: 'alice', admin: false, teams: [] }))
    );
    await expect(api.me()).resolves.toMatchObject({ name: 'alice' });
    await api.me();
    expect(makeRequest).toHaveBeenCalledTimes(2);
    await api.me(true);
    expect(makeRequest).toHaveBeenCalledTimes(3);
  });
});
