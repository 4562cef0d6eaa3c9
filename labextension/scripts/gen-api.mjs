/**
 * `jlpm gen:api`: src/schema.ts, the TypeScript types of the platform API, made
 * with openapi-typescript from the OpenAPI document the service serves
 * (`python -m submarine_hub.service.openapi`: openapi.yaml with the experiment
 * and notebook job schemas filled in).
 *
 * `jlpm gen:api --check` writes nothing and fails when src/schema.ts is not what
 * the document makes (tests/test_lab_api_types.py runs it). The Python that
 * reads the document is $PYTHON, else `python`, run in the repository's root.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const here = dirname(fileURLToPath(import.meta.url));
const labextension = join(here, '..');
const repository = join(labextension, '..');
const target = join(labextension, 'src', 'schema.ts');

const HEADER = `/**
 * The platform API's types, generated from its OpenAPI document
 * (submarine_hub/service/openapi.yaml, as the service serves it).
 * Do not edit: change the document, then run \`jlpm gen:api\`.
 */
/* eslint-disable */
`;

async function generate() {
  const python = process.env.PYTHON || 'python';
  const json = execFileSync(python, ['-m', 'submarine_hub.service.openapi'], {
    cwd: repository,
    encoding: 'utf-8',
    maxBuffer: 64 * 1024 * 1024
  });
  const ast = await openapiTS(JSON.parse(json), {
    emptyObjectsUnknown: true,
    silent: true
  });
  const options = (await prettier.resolveConfig(target)) ?? {};
  return prettier.format(HEADER + astToString(ast), { ...options, filepath: target });
}

const check = process.argv.includes('--check');
const text = await generate();
if (check) {
  let current = '';
  try {
    current = readFileSync(target, 'utf-8');
  } catch {
    // missing: stale
  }
  if (current !== text) {
    console.error(
      'labextension/src/schema.ts is not what the OpenAPI document makes: run `jlpm gen:api` in labextension/ and commit it.'
    );
    process.exit(1);
  }
  console.log('labextension/src/schema.ts is up to date.');
} else {
  writeFileSync(target, text);
  console.log('wrote labextension/src/schema.ts');
}
