/**
 * What the specs that talk to the server put in place of `@jupyterlab/services` and
 * `@jupyterlab/coreutils`: the real `SubmarineAPI` runs against `makeRequest`, a jest
 * mock each spec answers as the server would.
 *
 *     jest.mock('@jupyterlab/services', () => jest.requireActual('./fakejupyter').services);
 *     jest.mock('@jupyterlab/coreutils', () => jest.requireActual('./fakejupyter').coreutils);
 *     import { makeRequest } from './fakejupyter';
 */
export const makeRequest = jest.fn();

export const services = {
  ServerConnection: {
    makeSettings: () => ({ baseUrl: 'http://localhost:8888/' }),
    makeRequest: (...args: unknown[]) => makeRequest(...args)
  }
};

export const coreutils = {
  URLExt: {
    join: (...parts: string[]) =>
      parts
        .filter(part => part.length > 0)
        .map((part, i) => (i === 0 ? part.replace(/\/+$/, '') : part.replace(/^\/+|\/+$/g, '')))
        .join('/')
  }
};
