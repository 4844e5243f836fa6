// How the pol.server.path setting becomes the executable the client starts (out/serverPath.js,
// built from src/serverPath.ts by `npm run build`).

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { resolveServerPath, expandPath } = require('../out/serverPath.js');

const skipOnWindows = process.platform === 'win32' ? 'POSIX permissions' : false;

function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pol-server-path-'));
  const make = (rel, mode) => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '#!/bin/sh\n');
    fs.chmodSync(file, mode);
    return file;
  };
  return { dir, make, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const env = (over) => ({
  platform: 'linux',
  home: '/nonexistent-home',
  pathVariable: '',
  pathExtensions: undefined,
  workspaceFolders: [],
  ...over,
});

test('a bare name is looked up on PATH, in order, skipping files that cannot run', { skip: skipOnWindows }, (t) => {
  const f = fixture();
  t.after(f.done);
  f.make('a/pol', 0o644);
  const runnable = f.make('b/pol', 0o755);
  f.make('c/pol', 0o755);
  const pathVariable = [path.join(f.dir, 'missing'), path.join(f.dir, 'a'), path.join(f.dir, 'b'), path.join(f.dir, 'c')].join(':');
  assert.deepEqual(resolveServerPath('pol', env({ pathVariable })), { ok: true, command: runnable });
  assert.deepEqual(resolveServerPath('  ', env({ pathVariable })), { ok: true, command: runnable }, 'empty means pol');
  assert.deepEqual(resolveServerPath(undefined, env({ pathVariable })), { ok: true, command: runnable });
  const missing = resolveServerPath('pol-missing', env({ pathVariable }));
  assert.equal(missing.ok, false);
  assert.equal(missing.failure, 'notOnPath');
  assert.equal(missing.configured, 'pol-missing');
});

test('~ is the home folder; an absolute path is used as it is', { skip: skipOnWindows }, (t) => {
  const f = fixture();
  t.after(f.done);
  const inHome = f.make('.cargo/bin/pol', 0o755);
  assert.deepEqual(resolveServerPath('~/.cargo/bin/pol', env({ home: f.dir })), { ok: true, command: inHome });
  assert.deepEqual(resolveServerPath('${userHome}/.cargo/bin/pol', env({ home: f.dir })), { ok: true, command: inHome });
  assert.deepEqual(resolveServerPath(inHome, env()), { ok: true, command: inHome });
  const gone = resolveServerPath(path.join(f.dir, 'nothing', 'pol'), env());
  assert.equal(gone.failure, 'notFound');
  assert.deepEqual(gone.tried, [path.join(f.dir, 'nothing', 'pol')]);
  const notRunnable = f.make('plain/pol', 0o644);
  assert.equal(resolveServerPath(notRunnable, env()).failure, 'notExecutable');
  assert.equal(resolveServerPath(path.join(f.dir, 'plain'), env()).failure, 'notExecutable', 'a directory');
  assert.equal(expandPath('~', env({ home: '/h' })), '/h');
  assert.equal(expandPath('~user/pol', env({ home: '/h' })), '~user/pol', 'only ~ alone or ~/ is the home folder');
});

test('a relative path is taken from the workspace folders, the first that has it', { skip: skipOnWindows }, (t) => {
  const f = fixture();
  t.after(f.done);
  const second = f.make('two/target/release/pol', 0o755);
  const folders = [path.join(f.dir, 'one'), path.join(f.dir, 'two')];
  assert.deepEqual(resolveServerPath('target/release/pol', env({ workspaceFolders: folders })), { ok: true, command: second });
  assert.deepEqual(resolveServerPath('./target/release/pol', env({ workspaceFolders: folders })), { ok: true, command: second });
  assert.deepEqual(
    resolveServerPath('${workspaceFolder}/../two/target/release/pol', env({ workspaceFolders: folders })),
    { ok: true, command: second },
  );
  const none = resolveServerPath('target/debug/pol', env({ workspaceFolders: folders }));
  assert.equal(none.failure, 'notInWorkspace');
  assert.equal(none.tried.length, 2);
  const noFolder = resolveServerPath('target/release/pol', env());
  assert.equal(noFolder.failure, 'notInWorkspace');
  assert.deepEqual(noFolder.tried, []);
});
