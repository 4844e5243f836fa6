// package.json's contributions, its English and Chinese strings, the runtime strings of the
// extension and the language configuration, checked against each other.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const read = (file) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
const manifest = read('package.json');
const english = read('package.nls.json');
const chinese = read('package.nls.zh-cn.json');
const bundle = read('l10n/bundle.l10n.zh-cn.json');

/** Every string in a JSON value, with where it is. */
function strings(value, where = '') {
  if (typeof value === 'string') {
    return [[where, value]];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => strings(v, `${where}[${i}]`));
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => strings(v, `${where}.${k}`));
  }
  return [];
}

const hasHan = (s) => /\p{Script=Han}/u.test(s);

test('every user-visible contribution is a %key% with English and Chinese text', () => {
  const visible = [
    ['.displayName', manifest.displayName],
    ['.description', manifest.description],
    ['.capabilities.untrustedWorkspaces.description', manifest.capabilities.untrustedWorkspaces.description],
    ['.contributes.configuration.title', manifest.contributes.configuration.title],
  ];
  for (const [name, property] of Object.entries(manifest.contributes.configuration.properties)) {
    visible.push([`${name}.markdownDescription`, property.markdownDescription]);
    for (const [i, d] of (property.enumDescriptions || []).entries()) {
      visible.push([`${name}.enumDescriptions[${i}]`, d]);
    }
    assert.ok(name.startsWith('pol.'), `${name} is a pol.* setting`);
  }
  for (const command of manifest.contributes.commands) {
    visible.push([`${command.command}.title`, command.title], [`${command.command}.category`, command.category]);
  }
  const used = new Set();
  for (const [where, value] of visible) {
    const m = /^%([^%]+)%$/.exec(value || '');
    assert.ok(m, `${where} is not a %key% placeholder: ${value}`);
    used.add(m[1]);
  }
  // Every placeholder anywhere in package.json is defined in both languages, and none is unused.
  for (const [where, value] of strings(manifest)) {
    const m = /^%([^%]+)%$/.exec(value);
    if (m) {
      used.add(m[1]);
      assert.ok(typeof english[m[1]] === 'string' && english[m[1]] !== '', `${where}: ${m[1]} has no English text`);
      assert.ok(typeof chinese[m[1]] === 'string' && chinese[m[1]] !== '', `${where}: ${m[1]} has no Chinese text`);
    }
  }
  assert.deepEqual(Object.keys(english).sort(), [...used].sort(), 'package.nls.json has exactly the keys used');
  assert.deepEqual(Object.keys(chinese).sort(), [...used].sort(), 'package.nls.zh-cn.json has exactly the keys used');
  for (const [key, text] of Object.entries(chinese)) {
    if (!['configuration.title', 'command.category'].includes(key)) {
      assert.ok(hasHan(text), `the Chinese text of ${key} is not Chinese: ${text}`);
    }
    assert.ok(!hasHan(english[key]), `the English text of ${key} has Chinese in it: ${english[key]}`);
  }
});

test('every vscode.l10n.t string of the extension has its Chinese translation', () => {
  assert.equal(manifest.l10n, './l10n');
  const source = fs.readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');
  const calls = [...source.matchAll(/l10n\.t\(\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
  assert.ok(calls.length >= 10, `found only ${calls.length} l10n.t calls`);
  assert.equal(source.match(/l10n\.t\(/g).length, calls.length, 'every l10n.t call has a literal message');
  for (const message of calls) {
    const translation = bundle[message];
    assert.ok(typeof translation === 'string', `no Chinese translation for: ${message}`);
    assert.ok(hasHan(translation), `the translation of "${message}" is not Chinese`);
    const placeholders = (s) => [...s.matchAll(/\{(\d+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(placeholders(translation), placeholders(message), `placeholders differ for: ${message}`);
  }
  assert.deepEqual(Object.keys(bundle).sort(), [...new Set(calls)].sort(), 'the bundle has no unused messages');
  assert.match(source, /initializationOptions:\s*\{\s*lang:\s*vscode\.env\.language\s*\}/);
  assert.match(source, /cargo install --path compiler\/cli/);
});

test('the manifest contributes the language, grammar, settings and commands', () => {
  assert.equal(manifest.name, 'pol');
  assert.equal(manifest.publisher, 'pol-lang');
  assert.equal(manifest.license, 'Apache-2.0');
  assert.equal(manifest.engines.vscode, '^1.75.0');
  assert.deepEqual(manifest.activationEvents, ['onLanguage:pol']);
  assert.equal(manifest.main, './out/extension.js');
  const [language] = manifest.contributes.languages;
  assert.equal(language.id, 'pol');
  assert.deepEqual(language.extensions, ['.pol']);
  const [grammar] = manifest.contributes.grammars;
  assert.equal(grammar.scopeName, 'source.pol');
  assert.equal(read(grammar.path).scopeName, 'source.pol');
  const settings = manifest.contributes.configuration.properties;
  assert.equal(settings['pol.server.path'].default, 'pol');
  assert.deepEqual(settings['pol.server.extraArgs'].default, []);
  assert.deepEqual(settings['pol.trace.server'].enum, ['off', 'messages', 'verbose']);
  assert.ok(manifest.contributes.commands.some((c) => c.command === 'pol.restartServer'));
  const source = fs.readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');
  for (const c of manifest.contributes.commands) {
    assert.ok(source.includes(`registerCommand('${c.command}'`), `${c.command} is not registered`);
  }
  // The installed vscode types are no newer than the engine (vsce refuses the package otherwise).
  const types = require('@types/vscode/package.json').version;
  assert.ok(types.startsWith('1.75.'), `@types/vscode ${types} does not match engines.vscode`);
  // vscode-languageclient checks the VS Code version at run time: it must accept 1.75.
  const client = fs.readFileSync(require.resolve('vscode-languageclient/lib/node/main.js'), 'utf8');
  assert.match(client, /REQUIRED_VSCODE_VERSION = '\^1\.(6\d|7[0-5])\.0'/);
});

test('the language configuration: comments, brackets, Chinese pairs, a Unicode word pattern', () => {
  const config = read(manifest.contributes.languages[0].configuration);
  assert.deepEqual(config.comments, { lineComment: '//', blockComment: ['/*', '*/'] });
  assert.deepEqual(config.brackets, [['{', '}'], ['[', ']'], ['(', ')']]);
  const pairs = config.autoClosingPairs.map((p) => p.open + p.close);
  for (const pair of ['{}', '[]', '()', '""', '“”', '（）', '〔〕']) {
    assert.ok(pairs.includes(pair), `${pair} does not close itself`);
  }
  const word = new RegExp(config.wordPattern.pattern, config.wordPattern.flags + 'g');
  const words = (s) => s.match(word);
  assert.deepEqual(words('let 基本调整额 = 定额调整() + r.monthly_pension'), ['let', '基本调整额', '定额调整', 'r', 'monthly_pension']);
  assert.deepEqual(words('effective 2024-01-01 = 999_999 yuan'), ['effective', '2024-01-01', '999_999', 'yuan']);
  for (const rule of config.onEnterRules) {
    new RegExp(rule.beforeText);
  }
  new RegExp(config.indentationRules.increaseIndentPattern);
  new RegExp(config.indentationRules.decreaseIndentPattern);
});
