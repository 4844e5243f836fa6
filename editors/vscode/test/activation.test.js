// The built extension (out/extension.js) activated against a stand-in for the `vscode` module and
// a fake `pol lsp` (test/fixtures/fake-pol.js): what it starts, what it tells the server, what it
// says when the server is missing or exits. The display language is Chinese, so the messages
// come from l10n/bundle.l10n.zh-cn.json as VS Code would pick them.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');

const root = path.join(__dirname, '..');
const bundle = JSON.parse(fs.readFileSync(path.join(root, 'l10n', 'bundle.l10n.zh-cn.json'), 'utf8'));
const skip = process.platform === 'win32' ? 'the fake server is a shell script' : false;

// The client library leaves two promises of a failed start unhandled (it stops a client that
// never ran); VS Code's extension host only logs them. Any other is a failure.
const KNOWN_REJECTIONS = [];
const unexpected = [];
process.on('unhandledRejection', (e) => {
  const message = String(e && e.message ? e.message : e);
  if (!KNOWN_REJECTIONS.some((r) => r.test(message))) {
    unexpected.push(message);
  }
});

class EventEmitter {
  constructor() {
    this.listeners = [];
    this.event = (listener) => {
      this.listeners.push(listener);
      return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
    };
  }
  fire(e) {
    this.listeners.forEach((l) => l(e));
  }
  dispose() {
    this.listeners = [];
  }
}

class Disposable {
  constructor(f) {
    this.f = f;
  }
  static from(...ds) {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose() {
    if (this.f) this.f();
  }
}

/** Whatever the test does not spell out: callable, constructible, every property another. */
function anything(name) {
  return new Proxy(function () {}, {
    get(_t, p) {
      if (p === 'then' || p === Symbol.iterator) return undefined;
      if (p === Symbol.toPrimitive) return () => name;
      return anything(`${name}.${String(p)}`);
    },
    apply: () => anything(`${name}()`),
    construct: () => anything(`new ${name}`),
  });
}

function withFallback(object, name) {
  return new Proxy(object, {
    get(target, p) {
      if (p in target) {
        const v = target[p];
        return v && typeof v === 'object' && !Array.isArray(v) && v.constructor === Object ? withFallback(v, `${name}.${String(p)}`) : v;
      }
      return p === 'then' ? undefined : anything(`${name}.${String(p)}`);
    },
  });
}

const state = { settings: {}, errors: [], output: [], commands: new Map(), status: {} };
const format = (message, args) => message.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)]));
const vscode = withFallback(
  {
    version: '1.75.0',
    EventEmitter,
    Disposable,
    LanguageStatusSeverity: { Information: 0, Warning: 1, Error: 2 },
    Uri: {
      file: (p) => ({ scheme: 'file', fsPath: p, path: p, toString: () => `file://${p}` }),
      parse: (s) => ({ toString: () => s }),
    },
    env: { language: 'zh-cn', appName: 'Visual Studio Code' },
    l10n: { t: (message, ...args) => format(bundle[message] ?? message, args) },
    window: {
      createOutputChannel: (name) => ({
        name,
        append: (s) => state.output.push(s),
        appendLine: (s) => state.output.push(s),
        show() {},
        clear() {},
        replace() {},
        dispose() {},
      }),
      showErrorMessage: async (message, ...items) => {
        state.errors.push({ message, items });
        return undefined;
      },
    },
    languages: {
      createLanguageStatusItem: (id, selector) => {
        state.status = { id, selector, dispose() {} };
        return state.status;
      },
    },
    commands: {
      registerCommand: (id, f) => {
        state.commands.set(id, f);
        return { dispose: () => state.commands.delete(id) };
      },
      executeCommand: async () => undefined,
    },
    workspace: {
      workspaceFolders: undefined,
      textDocuments: [],
      getConfiguration: (section) => ({
        get: (key, fallback) => {
          const full = section ? `${section}.${key}` : key;
          return full in state.settings ? state.settings[full] : fallback;
        },
        has: () => false,
        inspect: () => undefined,
        update: async () => undefined,
      }),
      onDidChangeConfiguration: () => ({ dispose() {} }),
      onDidGrantWorkspaceTrust: () => ({ dispose() {} }),
    },
  },
  'vscode',
);

const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};
const extension = require(path.join(root, 'out', 'extension.js'));

/** A `pol` in a fresh folder that runs the fake server, and the log it writes. */
function fakePol(t, mode) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pol-activation-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logFile = path.join(dir, 'log.jsonl');
  const pol = path.join(dir, 'pol');
  const script = path.join(__dirname, 'fixtures', 'fake-pol.js');
  fs.writeFileSync(
    pol,
    `#!/bin/sh\nFAKE_POL_LOG='${logFile}' FAKE_POL_MODE='${mode}' exec '${process.execPath}' '${script}' "$@"\n`,
  );
  fs.chmodSync(pol, 0o755);
  const entries = () =>
    fs.existsSync(logFile)
      ? fs.readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
      : [];
  return { dir, pol, entries };
}

async function until(what, predicate, ms = 10000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) {
      assert.fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function reset(settings) {
  state.settings = settings;
  state.errors = [];
  state.output = [];
}

test('starts `pol lsp` from PATH, tells it the display language, restarts it and stops it', { skip }, async (t) => {
  const fake = fakePol(t, 'serve');
  const savedPath = process.env.PATH;
  process.env.PATH = `${fake.dir}${path.delimiter}${savedPath}`;
  t.after(() => (process.env.PATH = savedPath));
  reset({ 'pol.server.path': 'pol', 'pol.server.extraArgs': ['--extra'] });

  await extension.activate({ subscriptions: [] });
  await until('initialized', () => fake.entries().some((e) => e.method === 'initialized'));
  const first = fake.entries();
  assert.deepEqual(first[0], { argv: ['lsp', '--extra'] });
  const init = first.find((e) => e.method === 'initialize');
  assert.deepEqual(init.initializationOptions, { lang: 'zh-cn' });
  assert.equal(init.locale, 'zh-cn');
  assert.deepEqual(state.errors, []);
  assert.equal(state.status.text, 'Pol：运行中');
  assert.equal(state.status.selector.language, 'pol');
  assert.ok(state.commands.has('pol.restartServer') && state.commands.has('pol.showOutput'));

  await state.commands.get('pol.restartServer')();
  await until('the second initialized', () => fake.entries().filter((e) => e.method === 'initialized').length === 2);
  const methods = fake.entries().map((e) => e.method ?? 'start');
  assert.deepEqual(methods, ['start', 'initialize', 'initialized', 'shutdown', 'exit', 'start', 'initialize', 'initialized']);

  await extension.deactivate();
  await until('exit', () => fake.entries().filter((e) => e.method === 'exit').length === 2);
  assert.deepEqual(fake.entries().slice(-2).map((e) => e.method), ['shutdown', 'exit']);
  assert.deepEqual(state.errors, []);
  assert.deepEqual(unexpected, []);
});

test('a missing server is reported once, in Chinese, with how to install it', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pol-activation-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'bin', 'pol');
  reset({ 'pol.server.path': missing });

  await extension.activate({ subscriptions: [] });
  await until('the error message', () => state.errors.length > 0);
  await sleep(200);
  assert.equal(state.errors.length, 1);
  const [{ message, items }] = state.errors;
  assert.equal(message, `无法启动 Pol 语言服务器（${missing}）：文件 ${missing} 不存在。请在 Pol 代码仓库中运行“cargo install --path compiler/cli”安装 pol，或在设置“pol.server.path”中填写 pol 可执行文件的路径。`);
  assert.deepEqual(items, ['打开设置', '显示输出', '重试']);
  assert.equal(state.status.text, 'Pol：未运行');
  await extension.deactivate();
  assert.deepEqual(unexpected, []);
});

test('a server that exits at once is reported once and not restarted', { skip }, async (t) => {
  const fake = fakePol(t, 'exit');
  reset({ 'pol.server.path': fake.pol, 'pol.server.extraArgs': [] });

  await extension.activate({ subscriptions: [] });
  await until('the error message', () => state.errors.length > 0);
  await sleep(1000);
  assert.equal(fake.entries().length, 1, 'started once, never restarted');
  assert.equal(state.errors.length, 1, JSON.stringify(state.errors));
  assert.match(state.errors[0].message, /^无法启动 Pol 语言服务器（.*pol）：服务器已退出或没有响应（.*）；请确认这个 pol 支持“lsp”命令。/);
  assert.ok(state.output.some((s) => s.includes("unrecognized subcommand 'lsp'")), 'the server\'s stderr is in the output');
  assert.equal(state.status.text, 'Pol：未运行');
  await extension.deactivate();
  assert.deepEqual(unexpected, []);
});
