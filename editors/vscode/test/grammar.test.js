// The TextMate grammar, run by the engine VS Code uses (vscode-textmate on vscode-oniguruma),
// over every policy in the repository and over a few lines written here for what the policies
// do not contain (block comments, the Chinese units, an unterminated string).

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const oniguruma = require('vscode-oniguruma');
const vsctm = require('vscode-textmate');

const GRAMMAR = path.join(__dirname, '..', 'syntaxes', 'pol.tmLanguage.json');
const POLICIES = path.join(__dirname, '..', '..', '..', 'policies');

function policyFiles(dir) {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...policyFiles(full));
    } else if (entry.isFile() && entry.name.endsWith('.pol')) {
      files.push(full);
    }
  }
  return files.sort();
}

let grammarPromise;
function loadGrammar() {
  grammarPromise ??= (async () => {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName) =>
        scopeName === 'source.pol' ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR) : null,
    });
    const grammar = await registry.loadGrammar('source.pol');
    assert.ok(grammar, 'the grammar loads');
    return grammar;
  })();
  return grammarPromise;
}

/**
 * Every line's tokens ({ text, scopes }) and the tokenizer's stack depth before and after it.
 * The depth is 1 at the top level of a file, outside every begin/end region.
 */
function tokenize(grammar, text) {
  const lines = text.split(/\r?\n/);
  let stack = vsctm.INITIAL;
  const result = [];
  for (const [index, line] of lines.entries()) {
    const before = stack === vsctm.INITIAL ? 1 : stack.depth;
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    result.push({
      number: index + 1,
      line,
      before,
      after: stack.depth,
      tokens: r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes })),
    });
  }
  return result;
}

/** Every scope name the grammar gives a token: rule names, content names and capture names. */
function grammarScopes() {
  const raw = JSON.parse(fs.readFileSync(GRAMMAR, 'utf8'));
  const names = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'name' || key === 'contentName') && typeof value === 'string' && node !== raw) {
          names.add(value);
        } else {
          walk(value);
        }
      }
    }
  };
  walk(raw.repository);
  walk(raw.patterns);
  return names;
}

// The token classes asked of the grammar, each by the scopes that make it.
const CLASSES = {
  comment: /^comment\.(line\.double-slash|block)\.pol$/,
  string: /^string\.quoted\.double\.pol$/,
  citation: /^string\.quoted\.citation\.pol$/,
  'keyword: control': /^keyword\.control\.pol$/,
  'keyword: declaration': /^keyword\.other\.declaration\.pol$/,
  'keyword: logical': /^keyword\.operator\.logical\.pol$/,
  'keyword: monotone': /^keyword\.other\.monotone\.pol$/,
  'keyword: cite': /^keyword\.other\.cite\.pol$/,
  boolean: /^constant\.language\.boolean\.pol$/,
  date: /^constant\.numeric\.date\.pol$/,
  number: /^constant\.numeric\.decimal\.pol$/,
  version: /^constant\.numeric\.version\.pol$/,
  unit: /^keyword\.other\.unit\.pol$/,
  operator: /^keyword\.operator\.(arithmetic|comparison|assignment|arrow|range)\.pol$/,
  'type: built-in': /^support\.type\.(primitive|period)\.pol$/,
  'type: record or enum': /^entity\.name\.type\.pol$/,
  'definition: rule': /^entity\.name\.function\.rule\.pol$/,
  'definition: slot': /^entity\.name\.function\.slot\.pol$/,
  'definition: table': /^entity\.name\.function\.table\.pol$/,
  'definition: param': /^entity\.name\.variable\.param\.pol$/,
  'definition: let': /^entity\.name\.variable\.local\.pol$/,
  'definition: population': /^entity\.name\.variable\.population\.pol$/,
  'definition: record': /^entity\.name\.type\.record\.pol$/,
  'definition: enum': /^entity\.name\.type\.enum\.pol$/,
  'definition: record field': /^entity\.name\.variable\.field\.pol$/,
  'definition: framework or scheme': /^entity\.name\.namespace\.(framework|scheme)\.pol$/,
  'rule parameter': /^variable\.parameter\.pol$/,
  'call: rule, slot or table': /^entity\.name\.function\.call\.pol$/,
  'call: built-in function': /^support\.function\.builtin\.pol$/,
  'call: argument label': /^variable\.parameter\.label\.pol$/,
  'field access': /^variable\.other\.property\.pol$/,
  'enum variant': /^variable\.other\.enummember\.pol$/,
  result: /^variable\.language\.result\.pol$/,
};

// Scopes the policies cannot show (they have no block comment and no unterminated string);
// the lines below show them instead.
const NOT_IN_POLICIES = new Set(['comment.block.pol', 'invalid.illegal.unterminated-string.pol']);

const FIXTURE = [
  'param 基数 = 3000元',
  'param 月标准: 金额/月 = 1200 元/月',
  'param 年标准: Money/year = 14400 yuan/year',
  'param 比例 = 3％',
  'param 期限 = 6个月',
  'param 年限 = 20 years + 1 month',
  '/* 块注释：',
  '   跨两行 */',
  'rule 测试(r: 工伤职工) -> 金额/月 = round(r.工资 × 1.2 ÷ 3, to: 0.1) // 行尾注释',
  'param 未结束 = "没有右引号',
  'let a = monthly_pension + r20',
  'rule 引用() -> Int cite',
  '  "下一行的文号" = 1',
].join('\n');

/** The tokens of a line, as [text, innermost scope] pairs, blanks left out. */
function pairs(line) {
  return line.tokens.filter((t) => t.text.trim() !== '').map((t) => [t.text.trim(), t.scopes[t.scopes.length - 1]]);
}

/** The innermost scope of the token with this text, blanks around it left out (the first one), or fails. */
function scopeOf(line, text, nth = 0) {
  const found = line.tokens.filter((t) => t.text.trim() === text.trim());
  assert.ok(found.length > nth, `no token "${text}" in line ${line.number}: ${line.line}`);
  return found[nth].scopes[found[nth].scopes.length - 1];
}

function findLine(lines, needle) {
  const line = lines.find((l) => l.line.includes(needle));
  assert.ok(line, `no line contains ${needle}`);
  return line;
}

test('every policy is tokenized, every token class appears, and each file ends at the top level', async (t) => {
  const grammar = await loadGrammar();
  const files = policyFiles(POLICIES);
  assert.ok(files.length >= 50, `expected the repository's policies, found ${files.length} in ${POLICIES}`);

  const seen = new Set();
  const topLevel = /^(framework|scheme|enum|record|local|param|table|slot|filed|locked|rule|test)(?![\p{L}\p{N}_])/u;
  let lineCount = 0;
  for (const file of files) {
    const name = path.relative(POLICIES, file);
    const lines = tokenize(grammar, fs.readFileSync(file, 'utf8'));
    lineCount += lines.length;
    for (const l of lines) {
      for (const t of l.tokens) {
        t.scopes.forEach((s) => seen.add(s));
        assert.ok(
          !t.scopes.some((s) => s.startsWith('invalid.')),
          `${name}:${l.number}: "${t.text}" is marked invalid (${t.scopes.join(' ')})`,
        );
      }
      // An item starts at the top level: no region of the one before it is still open.
      if (topLevel.test(l.line)) {
        assert.equal(l.before, 1, `${name}:${l.number} starts an item inside an unclosed region: ${l.line}`);
      }
    }
    assert.equal(lines[lines.length - 1].after, 1, `${name} ends inside an unclosed region`);
  }

  for (const [label, pattern] of Object.entries(CLASSES)) {
    assert.ok([...seen].some((s) => pattern.test(s)), `token class "${label}" (${pattern}) appears in no policy`);
  }
  const defined = grammarScopes();
  for (const scope of defined) {
    if (!NOT_IN_POLICIES.has(scope)) {
      assert.ok(seen.has(scope), `the grammar's scope ${scope} appears in no policy`);
    }
  }
  const fixture = tokenize(grammar, FIXTURE);
  const fixtureScopes = new Set(fixture.flatMap((l) => l.tokens.flatMap((t) => t.scopes)));
  for (const scope of NOT_IN_POLICIES) {
    assert.ok(defined.has(scope), `${scope} is not a scope of the grammar`);
    assert.ok(fixtureScopes.has(scope), `${scope} appears in neither the policies nor the test lines`);
  }
  t.diagnostic(
    `${files.length} policy files, ${lineCount} lines; ${Object.keys(CLASSES).length} token classes and ` +
      `${defined.size} grammar scopes checked`,
  );
});

test('spot checks in the Guangdong 2024 scheme and the national framework', async () => {
  const grammar = await loadGrammar();
  const gd = tokenize(
    grammar,
    fs.readFileSync(path.join(POLICIES, 'provinces', 'guangdong', 'pension_adjustment_2024.pol'), 'utf8'),
  );
  const national = tokenize(grammar, fs.readFileSync(path.join(POLICIES, 'national', 'pension_adjustment.pol'), 'utf8'));

  // A line comment, from `//` to the end of the line.
  const first = gd[0];
  assert.deepEqual(pairs(first), [
    ['//', 'punctuation.definition.comment.pol'],
    ['广东省2024年调整退休人员基本养老金（粤人社规〔2024〕12号）', 'comment.line.double-slash.pol'],
  ]);

  // `param 定额 = 30 yuan cite "…"`: a definition name, a number and its unit, a citation.
  const param = findLine(gd, 'param 定额 =');
  assert.deepEqual(pairs(param), [
    ['param', 'keyword.other.declaration.pol'],
    ['定额', 'entity.name.variable.param.pol'],
    ['=', 'keyword.operator.assignment.pol'],
    ['30', 'constant.numeric.decimal.pol'],
    ['yuan', 'keyword.other.unit.pol'],
    ['cite', 'keyword.other.cite.pol'],
    ['"', 'punctuation.definition.string.begin.pol'],
    ['粤人社规〔2024〕12号 定额调整：每人每月30元', 'string.quoted.citation.pol'],
    ['"', 'punctuation.definition.string.end.pol'],
  ]);

  // The header: a date after `effective`, the citation after `cite`.
  const effective = findLine(gd, 'effective 2024-01-01');
  assert.equal(scopeOf(effective, '2024-01-01'), 'constant.numeric.date.pol');
  assert.equal(scopeOf(effective, '粤人社规〔2024〕12号'), 'string.quoted.citation.pol');
  const scheme = findLine(gd, 'scheme guangdong_2024');
  assert.equal(scopeOf(scheme, 'guangdong_2024'), 'entity.name.namespace.scheme.pol');
  assert.equal(scopeOf(scheme, '广东省2024年调整退休人员基本养老金'), 'string.quoted.double.pol');
  assert.equal(scopeOf(scheme, 'pension_adjustment'), 'entity.name.namespace.framework.pol');
  assert.equal(scopeOf(scheme, '2024'), 'constant.numeric.version.pol');

  // `rule 定额调整() -> Money/month`: a Chinese rule name, the return type and its period.
  const rule = findLine(gd, 'rule 定额调整()');
  assert.equal(scopeOf(rule, 'rule'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(rule, '定额调整'), 'entity.name.function.rule.pol');
  assert.equal(scopeOf(rule, '->'), 'keyword.operator.arrow.pol');
  assert.equal(scopeOf(rule, 'Money'), 'support.type.primitive.pol');
  assert.equal(scopeOf(rule, '/'), 'punctuation.separator.period.pol');
  assert.equal(scopeOf(rule, 'month'), 'support.type.period.pol');
  assert.equal(scopeOf(rule, '定额'), 'source.pol', 'a name used in an expression is plain');

  // A parameter and its record type; a percentage.
  const linked = findLine(gd, 'rule 年限挂钩(r: Retiree)');
  assert.equal(scopeOf(linked, '年限挂钩'), 'entity.name.function.rule.pol');
  assert.equal(scopeOf(linked, 'r'), 'variable.parameter.pol');
  assert.equal(scopeOf(linked, 'Retiree'), 'entity.name.type.pol');
  const rate = findLine(gd, 'param 挂钩比例: Rate = 1.16%');
  assert.equal(scopeOf(rate, 'Rate'), 'support.type.primitive.pol');
  assert.equal(scopeOf(rate, '1.16'), 'constant.numeric.decimal.pol');
  assert.equal(scopeOf(rate, '%'), 'keyword.other.unit.pol');

  // Built-in calls, field access, `if … then … else`, the `brackets` bands.
  const years = findLine(gd, 'let 计算年数 =');
  assert.equal(scopeOf(years, '计算年数'), 'entity.name.variable.local.pol');
  assert.equal(scopeOf(years, 'whole_years'), 'support.function.builtin.pol');
  assert.equal(scopeOf(years, 'contribution'), 'variable.other.property.pol');
  assert.equal(scopeOf(years, '.'), 'punctuation.accessor.pol');
  for (const k of ['if', 'then', 'else']) {
    assert.equal(scopeOf(years, k), 'keyword.control.pol');
  }
  const bands = findLine(gd, 'brackets 计算年数');
  assert.equal(scopeOf(bands, 'brackets'), 'keyword.control.pol');
  assert.equal(scopeOf(bands, '计算年数'), 'source.pol', 'the value a `brackets` reads is not a record literal');
  assert.equal(scopeOf(bands, 'to'), 'keyword.control.pol');
  assert.equal(scopeOf(bands, 'above'), 'keyword.control.pol');

  // `match age(r.birth_date, at: 年龄计算日) {`: a label inside a call; `>= 100 => 200 yuan`.
  const match = findLine(gd, 'match age(');
  assert.equal(scopeOf(match, 'match'), 'keyword.control.pol');
  assert.equal(scopeOf(match, 'at'), 'variable.parameter.label.pol');
  const arm = findLine(gd, '>= 100 => 200 yuan');
  assert.deepEqual(pairs(arm).slice(0, 5), [
    ['>=', 'keyword.operator.comparison.pol'],
    ['100', 'constant.numeric.decimal.pol'],
    ['=>', 'keyword.operator.arrow.pol'],
    ['200', 'constant.numeric.decimal.pol'],
    ['yuan', 'keyword.other.unit.pol'],
  ]);

  // A test: its title, a record literal, enum variants, durations, booleans, calls of rules.
  const title = findLine(gd, 'test "缴费30年，养老金3000元"');
  assert.equal(scopeOf(title, 'test'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(title, '缴费30年，养老金3000元'), 'string.quoted.double.pol');
  const literal = findLine(gd, 'let r = Retiree { person_id: 1,');
  assert.equal(scopeOf(literal, 'Retiree'), 'entity.name.type.pol');
  assert.equal(scopeOf(literal, 'person_id'), 'variable.other.property.pol');
  assert.equal(scopeOf(literal, '1955-03-01'), 'constant.numeric.date.pol');
  assert.equal(scopeOf(literal, '30'), 'constant.numeric.decimal.pol');
  assert.equal(scopeOf(literal, 'years'), 'keyword.other.unit.pol');
  const variants = findLine(gd, 'sex: Sex.Male, hukou: Hukou.Rural');
  assert.deepEqual(
    pairs(variants).filter(([text]) => ['Sex', 'Male', 'Hukou', 'Rural'].includes(text)),
    [
      ['Sex', 'entity.name.type.enum.pol'],
      ['Male', 'variable.other.enummember.pol'],
      ['Hukou', 'entity.name.type.enum.pol'],
      ['Rural', 'variable.other.enummember.pol'],
    ],
  );
  const cadre = findLine(gd, 'military_cadre: true');
  assert.equal(scopeOf(cadre, 'true'), 'constant.language.boolean.pol');
  const call = findLine(gd, '年限挂钩(r) == 40 yuan');
  assert.equal(scopeOf(call, '年限挂钩'), 'entity.name.function.call.pol');
  assert.equal(scopeOf(call, '=='), 'keyword.operator.comparison.pol');

  // The national framework: enum and record declarations, slots, requirements, aggregates.
  const sex = findLine(national, 'enum Sex');
  assert.deepEqual(pairs(sex).filter(([, s]) => !s.startsWith('punctuation')), [
    ['enum', 'keyword.other.declaration.pol'],
    ['Sex', 'entity.name.type.enum.pol'],
    ['性别', 'string.quoted.double.pol'],
    ['Male', 'variable.other.enummember.pol'],
    ['Female', 'variable.other.enummember.pol'],
  ]);
  const record = findLine(national, 'record Retiree "退休人员" {');
  assert.equal(scopeOf(record, 'Retiree'), 'entity.name.type.record.pol');
  const field = findLine(national, 'person_id:       Int');
  assert.equal(scopeOf(field, 'person_id'), 'entity.name.variable.field.pol');
  assert.equal(scopeOf(field, 'Int'), 'support.type.primitive.pol');
  assert.equal(scopeOf(field, 'in'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(field, '..='), 'keyword.operator.range.pol');
  assert.equal(scopeOf(field, '999_999_999_999'), 'constant.numeric.decimal.pol');
  assert.equal(scopeOf(field, 'key'), 'keyword.other.declaration.pol');
  const sexField = findLine(national, 'sex:             Sex');
  assert.equal(scopeOf(sexField, 'Sex'), 'entity.name.type.pol');
  const localFields = findLine(national, 'local fields for 挂钩调整');
  assert.deepEqual(pairs(localFields).slice(0, 3).map(([, s]) => s), Array(3).fill('keyword.other.declaration.pol'));
  const slot = findLine(national, 'slot 挂钩调整(r: Retiree)');
  assert.equal(scopeOf(slot, '挂钩调整'), 'entity.name.function.slot.pol');
  const filed = findLine(national, 'filed slot 地方增发');
  assert.equal(scopeOf(filed, 'filed'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(filed, '地方增发'), 'entity.name.function.slot.pol');
  const monotone = findLine(national, 'require result nondecreasing in r.contribution');
  assert.equal(scopeOf(monotone, 'require'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(monotone, 'result'), 'variable.language.result.pol');
  assert.equal(scopeOf(monotone, 'nondecreasing'), 'keyword.other.monotone.pol');
  const aggregate = findLine(national, 'aggregate sum(result) <= national_ratio');
  assert.equal(scopeOf(aggregate, 'aggregate'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(aggregate, 'sum', 0), 'keyword.other.declaration.pol', '`sum(` is the keyword, not a call');
  const or = findLine(national, 'require result <= 5000 yuan or r.military_cadre');
  assert.equal(scopeOf(or, 'or'), 'keyword.operator.logical.pol');
  const locked = findLine(national, 'locked rule pension_adjustment(r: Retiree)');
  assert.equal(scopeOf(locked, 'locked'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(locked, 'pension_adjustment'), 'entity.name.function.rule.pol');
  const dated = findLine(national, '= 2% from 2025-01-01');
  assert.equal(scopeOf(dated, 'from'), 'keyword.other.declaration.pol');
  assert.equal(scopeOf(dated, '2025-01-01'), 'constant.numeric.date.pol');
});

test('Chinese units, block comments and other lines the policies do not have', async () => {
  const grammar = await loadGrammar();
  const lines = tokenize(grammar, FIXTURE);
  const [yuan, perMonth, perYear, percent, months, duration, block1, block2, rule, open, plain, cite1, cite2] = lines;

  // `3000元`: the number and the unit apart, with no space between them.
  assert.deepEqual(pairs(yuan).slice(-2), [
    ['3000', 'constant.numeric.decimal.pol'],
    ['元', 'keyword.other.unit.pol'],
  ]);
  assert.equal(scopeOf(perMonth, '金额'), 'support.type.primitive.pol');
  assert.equal(scopeOf(perMonth, '月'), 'support.type.period.pol');
  assert.deepEqual(pairs(perMonth).slice(-2), [
    ['1200', 'constant.numeric.decimal.pol'],
    ['元/月', 'keyword.other.unit.pol'],
  ]);
  assert.equal(scopeOf(perYear, 'year'), 'support.type.period.pol');
  assert.equal(scopeOf(perYear, 'yuan/year'), 'keyword.other.unit.pol');
  assert.equal(scopeOf(percent, '％'), 'keyword.other.unit.pol');
  assert.deepEqual(pairs(months).slice(-2), [
    ['6', 'constant.numeric.decimal.pol'],
    ['个月', 'keyword.other.unit.pol'],
  ]);
  assert.equal(scopeOf(duration, 'years'), 'keyword.other.unit.pol');
  assert.equal(scopeOf(duration, 'month'), 'keyword.other.unit.pol');

  // A block comment over two lines, open after the first and closed after the second.
  assert.ok(block1.after > block1.before, 'a block comment stays open at the end of its first line');
  assert.equal(scopeOf(block1, ' 块注释：'), 'comment.block.pol');
  assert.equal(scopeOf(block2, '*/'), 'punctuation.definition.comment.pol');
  assert.equal(block2.after, 1);

  // `×` and `÷`, a Chinese record type, a Chinese field, `to:` as a label, a trailing comment.
  assert.equal(scopeOf(rule, '工伤职工'), 'entity.name.type.pol');
  assert.equal(scopeOf(rule, '×'), 'keyword.operator.arithmetic.pol');
  assert.equal(scopeOf(rule, '÷'), 'keyword.operator.arithmetic.pol');
  assert.equal(scopeOf(rule, '工资'), 'variable.other.property.pol');
  assert.equal(scopeOf(rule, 'to'), 'variable.parameter.label.pol');
  assert.equal(scopeOf(rule, ' 行尾注释'), 'comment.line.double-slash.pol');

  // A string without its closing quote is marked and ends with its line.
  assert.equal(scopeOf(open, '没有右引号'), 'invalid.illegal.unterminated-string.pol');
  assert.equal(open.after, 1, 'an unterminated string does not run into the next line');

  // `monthly_pension` is a name, not the unit `month`; `r20` is a name, not a number.
  assert.deepEqual(pairs(plain), [
    ['let', 'keyword.other.declaration.pol'],
    ['a', 'entity.name.variable.local.pol'],
    ['=', 'keyword.operator.assignment.pol'],
    ['monthly_pension', 'source.pol'],
    ['+', 'keyword.operator.arithmetic.pol'],
    ['r20', 'source.pol'],
  ]);

  // `cite` at the end of a line: its string on the next line is still the citation.
  assert.equal(scopeOf(cite1, 'cite'), 'keyword.other.cite.pol');
  assert.equal(scopeOf(cite2, '下一行的文号'), 'string.quoted.citation.pol');
  assert.equal(scopeOf(cite2, '1'), 'constant.numeric.decimal.pol');
  assert.equal(cite2.after, 1);
});
