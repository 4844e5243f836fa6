//! The registry of diagnostic codes: each has a stable code, a name, and an explanation that
//! `pol explain CODE` prints (what it checks, why, an example, what to write instead).
//!
//! Codes by family: `E00xx` syntax, `E01xx` names, `E02xx` types and units, `E03xx` match and
//! brackets, `E04xx` parameters and tables, `C01xx` compliance with a framework, `R00xx` row
//! errors at evaluation time, `V00xx` input rows a run cannot read or write, `T00xx` test results,
//! `E9001` an internal error.

pub struct Code {
    pub code: &'static str,
    pub name: &'static str,
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($id:ident = $code:literal, $name:literal, $expl:literal;)*) => {
        $(pub const $id: Code = Code { code: $code, name: $name, explanation: $expl };)*
        /// Every code, in code order.
        pub const ALL: &[&Code] = &[$(&$id),*];
    };
}

codes! {
    SYNTAX = "E0001", "syntax-error",
"What it checks: the file follows Pol's grammar.
Why: a rule that cannot be read cannot be checked or run.
Example:
    rule bonus(r: Retiree) -> Money = 30 yuan +
Use instead:
    rule bonus(r: Retiree) -> Money = 30 yuan + 5 yuan";

    BAD_LITERAL = "E0002", "invalid-literal",
"What it checks: dates exist in the calendar, numbers fit, and units are ones Pol knows.
Why: 2025-02-30 or a number with 40 digits is a typing mistake, not a value.
Example:
    param start: Date = 2025-02-30
Use instead:
    param start: Date = 2025-02-28";

    TOO_DEEP = "E0003", "nesting-too-deep",
"What it checks: expressions nest at most 256 levels deep (parentheses, `if`, `match`, `not`,
unary minus), and a file is at most 8 MiB.
Why: nothing a drafter writes nests that deep; the limit keeps checking and compiling bounded in
time and stack, with a located message instead of a crash. A long flat sum (`a + b + c + …`,
thousands of terms) is not nesting and has no such limit.
Example:
    rule r(r: Retiree) -> Money = ((((((…30 yuan…))))))
Use instead: name the intermediate values with `let`:
    let part = …
    part + 30 yuan";

    BIDI_CONTROL = "E0004", "bidirectional-control",
"What it checks: no bidirectional control character (U+202A–U+202E, U+2066–U+2069) anywhere in
a file, comments and strings included.
Why: they reorder how text is displayed, so a rule can read one way on screen and compute
another (the \"Trojan Source\" attack). A policy text never needs them: Chinese and Latin text
display correctly without.
Example: a comment holding U+202E (RIGHT-TO-LEFT OVERRIDE) that hides `+ 1000 yuan`.
Use instead: delete the character (most editors show it as <U+202E> or a gap).";

    INVISIBLE_IN_NAME = "E0005", "invisible-character-in-name",
"What it checks: a name holds no invisible or formatting character: zero-width joiners and
non-joiners, variation selectors, soft hyphens, word joiners and other default-ignorable code
points. Names are also compared in Unicode normalisation form C, so `é` typed as one character
or as `e` and an accent is one name.
Why: `过渡\u{200D}系数` displays exactly like `过渡系数` but is another name: a scheme could define
a look-alike of a framework rule or parameter and be read as using the national one.
Example: `param 过渡<U+200D>系数 = 5%`.
Use instead: retype the name without the invisible character.";

    CONFUSABLE_NAME = "E0006", "confusable-name",
"What it checks: a new name does not look like a different name already declared, in the same
file or in the framework a scheme implements: the two names' confusable skeletons (Unicode
Technical Standard #39, the table browsers use against look-alike web addresses) differ.
Why: a scheme could define `过渡系敉`, or a Latin name with a Cyrillic letter, beside the
framework's own name; a reader sees the national name, the compiler sees a new one.
Example: `rule pension_adjustmеnt(r: Retiree) -> Money/month = ...` with a Cyrillic `е`.
Use instead: use the framework's name exactly, or a name that does not resemble it.";

    UNKNOWN_NAME = "E0101", "unknown-name",
"What it checks: every name refers to a rule, parameter, table, let, rule parameter or enum.
Why: Pol has no implicit inputs and no default values; a misspelt name must not become zero.
Example:
    rule r1(r: Retiree) -> Money = base_amont * 2
Use instead:
    rule r1(r: Retiree) -> Money = base_amount * 2";

    DUPLICATE = "E0102", "duplicate-definition",
"What it checks: each name is defined once per file (and once per record, rule or test).
Why: two definitions of one name leave the reader unsure which applies.
Example:
    param rate: Rate = 1%
    param rate: Rate = 2%
Use instead: one parameter with dated values:
    param rate: Rate = 1% from 2024-01-01 = 2% from 2025-01-01";

    UNKNOWN_FIELD = "E0103", "unknown-field",
"What it checks: `r.field` names a field of the record type, and record literals set only
declared fields.
Why: a field missing from the schema would be missing from the data.
Example:
    r.pension            // the record declares monthly_pension
Use instead:
    r.monthly_pension";

    UNKNOWN_TYPE = "E0104", "unknown-type",
"What it checks: a type name is Money, Rate, Decimal, Int, Bool, Date, Months, or a declared
enum or record; only Money takes a period (`Money/month`, `Money/year`).
Example:
    contribution: Month
Use instead:
    contribution: Months";

    BAD_CALL = "E0105", "bad-call",
"What it checks: a call names a rule or built-in function and passes the arguments it takes,
with the labels it needs (`age(birth, at: date)`).
Example:
    age(r.birth_date)
Use instead:
    age(r.birth_date, at: 2026-01-01)";

    MISSING_FIELD = "E0106", "missing-field",
"What it checks: a record literal sets every field of its record, once.
Why: no silent defaults; a test record with a missing field would be evaluated with a guess.
Example:
    Retiree { birth_date: 1950-06-01 }
Use instead: set every field.";

    RECURSION = "E0107", "recursive-rule",
"What it checks: no rule calls itself, directly or through other rules.
Why: Pol is total: every evaluation terminates, so every rule can be proven and compiled.
Example:
    rule a(x: Int) -> Int = b(x)
    rule b(x: Int) -> Int = a(x)
Use instead: write the computation without the cycle (a table or brackets often help).";

    TYPE_MISMATCH = "E0201", "type-mismatch",
"What it checks: a value has the type its place needs: a declared result type, a let's type,
an argument, a field, a condition (Bool), both branches of an `if`, all arms of a `match`.
Example:
    rule flag(r: Retiree) -> Bool = r.monthly_pension
Use instead:
    rule flag(r: Retiree) -> Bool = r.monthly_pension > 0 yuan";

    BAD_OPERANDS = "E0202", "invalid-operands",
"What it checks: units combine as in the notice: Money + Money, Money * Rate, Money * Int,
Money / Money (a Decimal), Money / Int; never Money * Money, Money + Int or Date + Money.
Why: adding yuan to a count of years is always a mistake.
Example:
    30 yuan + whole_years(r.contribution)
Use instead:
    30 yuan + whole_years(r.contribution) * 1 yuan";

    PERIOD_MISMATCH = "E0203", "period-mismatch",
"What it checks: monthly amounts (yuan/month, 元/月) and yearly amounts (yuan/year, 元/年) are
not mixed.
Why: notices give some amounts per month and others per year; adding them unconverted is a
classic error.
Example:
    r.monthly_pension + 1200 yuan/year
Use instead:
    r.monthly_pension + to_monthly(1200 yuan/year)";

    UNREACHABLE_ARM = "E0301", "unreachable-arm",
"What it checks: every arm of a `match` can be chosen: it is not covered by the arms before it.
Arms are tried in order and the first that matches is chosen (DMN's first-hit policy), so an
arm covered by earlier arms is dead text, which usually means the thresholds are in the wrong
order.
Example:
    match age { >= 70 => 30 yuan, >= 80 => 60 yuan, else => 0 yuan }
Use instead:
    match age { >= 80 => 60 yuan, >= 70 => 30 yuan, else => 0 yuan }";

    NON_EXHAUSTIVE = "E0302", "non-exhaustive-match",
"What it checks: a `match` chooses an arm for every value in the scrutinee's declared domain
(or has `else`).
Why: a decision table with a gap has no answer for some retirees.
Example:
    match r.hardship_class { 1 => 10 yuan, 2 => 20 yuan }     // domain 0 ..= 3
Use instead: add the missing cases or an `else` arm.";

    BAD_BRACKETS = "E0303", "invalid-brackets",
"What it checks: bracket bounds are strictly ascending and positive, `above` comes last, and
every band's amount has the same type.
Example:
    brackets years { to 25: 1.5 yuan, to 15: 1 yuan, above: 2 yuan }
Use instead:
    brackets years { to 15: 1 yuan, to 25: 1.5 yuan, above: 2 yuan }";

    NOT_CONSTANT = "E0304", "not-constant",
"What it checks: domain bounds, table keys, bracket bounds and rounding quanta are constants:
literals, enum variants and arithmetic on them, and parameters that have a single undated value.
(`match` patterns may be any expression; only constant ones count towards coverage.)
Example:
    param cap: Money = r.monthly_pension
Use instead: make it a rule, which may read the record.";

    DATED_ORDER = "E0401", "dated-values-out-of-order",
"What it checks: the `from` dates of a parameter's values are strictly increasing, and only
the first value may omit `from` when it is the only one.
Example:
    param m: Money = 143 yuan from 2025-01-01 = 123 yuan from 2024-01-01
Use instead:
    param m: Money = 123 yuan from 2024-01-01 = 143 yuan from 2025-01-01";

    BEFORE_FIRST_DATE = "E0402", "parameter-before-first-date",
"What it checks: a dated parameter is not used at an as-of date before its first value.
Why: no silent defaults: 2023 has no value if the notice starts in 2024.
Example: `as of 2023-06-01` with `param m: Money = 123 yuan from 2024-01-01`.
Use instead: add the earlier value, or evaluate at a date the parameter covers.";

    PAST_HORIZON = "E0403", "parameter-past-horizon",
"What it checks: a parameter declared `until DATE` is not used after that date.
Why: a value with a known end (a yearly income figure, a yearly adjustment) must not be
silently carried into a year it was never published for.
Example: `as of 2027-01-01` with `param income: Money = 56502 yuan from 2026-01-01 until 2026-12-31`.
Use instead: add the new year's value.";

    BAD_TABLE = "E0404", "invalid-table",
"What it checks: table keys are Int, Months, Date, Bool or enum constants and each key appears
once. (A key or value of the wrong type is reported as E0201.)
Example:
    table months(age: Int) -> Decimal { 60: 139, 60: 138 }
Use instead: one row per key.";

    NO_AS_OF = "E0405", "no-as-of-date",
"What it checks: a dated parameter is evaluated at a known date: the test's `as of`, the
command's `--as-of`, or the scheme's `effective` date.
Example:
    test \"2025\" { min_pension == 143 yuan }      // no date
Use instead:
    test \"2025\" as of 2025-06-01 { min_pension == 143 yuan }";

    BAD_DOMAIN = "E0406", "invalid-domain",
"What it checks: a declared domain is a non-empty range of the field's own type, and a
parameter's value lies in its declared range.
Example:
    hardship_class: Int in 3 ..= 0
Use instead:
    hardship_class: Int in 0 ..= 3";

    LITERAL_OUTSIDE_DOMAIN = "E0407", "literal-outside-domain",
"What it checks: a field of a record literal (in a test, or in a rule) that is a constant lies
inside the field's declared domain.
Why: a run sends a row outside the domain to the ledger, and the compliance proofs cover only
the domain; a test on such a record tests something that can never be paid.
Example:
    Retiree { contribution: 900 months, … }      // declared in 0 months ..= 720 months
Use instead: a value inside the domain, or ask the framework to widen the domain.";

    UNKNOWN_RULE = "C0101", "local-small-policy",
"What it checks: a scheme defines only the framework's slots and helper rules that feed them.
Why: 不得违规出台地方\"小政策\": a province may not add benefit items of its own.
Example: a scheme adding `rule 独生子女加发(r: Retiree) -> Money = 20 yuan` that no slot uses.
Use instead: remove the item, or ask for it to be added to the national framework.";

    REDEFINES_NATIONAL = "C0102", "redefines-national",
"What it checks: a scheme does not redefine a locked rule, a national parameter, a table, a
record or an enum of its framework.
Why: national formulas and standards are fixed nationally (全国统一制度).
Example: `param national_ratio = 3%` in a scheme for a framework where it is national.
Use instead: remove the definition; the national one applies.";

    MISSING_SLOT = "C0103", "missing-slot",
"What it checks: a scheme defines every slot and sets every local parameter of its framework.
Example: a scheme without `rule pension_adjustment(...)`.
Use instead: define the slot (or set the parameter).";

    PARAM_OUT_OF_RANGE = "C0104", "local-param-out-of-range",
"What it checks: every dated value of a local parameter lies inside the range (and meets the
requirements) the framework delegates.
Example: `param transition_coefficient = 1.5%` where the framework allows 1.0% ..= 1.4%.
Use instead: a value inside the range.";

    FORBIDDEN_INPUT = "C0105", "forbidden-input",
"What it checks: a slot reads only the inputs its framework lists under `may use`, directly or
through helper rules.
Why: an adjustment tilted by sex or household registration breaks the unified framework.
Example: `if r.sex == Sex.Female then 10 yuan else 0 yuan` in an adjustment that may not use sex.
Use instead: tilt by an allowed input, such as age or hardship class.";

    SIGNATURE_MISMATCH = "C0106", "slot-signature-mismatch",
"What it checks: a slot's definition takes the parameters and returns the type the framework
declares.
Example: the framework says `-> Money/month`, the scheme says `-> Money/year`.
Use instead: the framework's signature.";

    REQUIREMENT_REFUTED = "C0107", "requirement-refuted",
"What it checks: a slot meets each per-record requirement of its framework for every record
in the declared domain; here the checker found a record that breaks it (shown, and confirmed
by running the interpreter).
Example: `require result >= 143 yuan` and a scheme paying 130 yuan.
Use instead: change the scheme so the requirement holds for every record.";

    REQUIREMENT_UNPROVEN = "C0108", "requirement-unproven",
"What it checks: as C0107, but the checker could neither prove the requirement nor find a
counter-example: the solver reached its resource limit (counted in deterministic units, so the
same files always get the same answer), the rule multiplies or divides amounts that both depend
on the record (non-linear arithmetic the solver may not decide), or the slot cannot be evaluated
on a date the scheme can run at. The scheme is rejected because acceptance must be sound.
Example: `require result <= 500 yuan` for a rule that divides one input by another.
Use instead: write the rule the way the notice computes it, with explicit floors and caps
(`max(x, floor)`, `min(x, cap)`, `clamp`), or declare narrower input domains.";

    FRAMEWORK_NOT_IN_FORCE = "C0109", "framework-not-in-force",
"What it checks: the scheme implements a framework version that is in force on the scheme's
effective date.
Example: a scheme effective 2024-01-01 implementing a framework effective 2025-01-01.
Use instead: implement the framework version in force on that date.";

    FRAMEWORK_NOT_FOUND = "C0110", "framework-not-found",
"What it checks: the framework a scheme implements can be found (next to the scheme, under
`policies/`, or by `--framework`) and has the version named.
Example: `scheme s implements pension_adjustment version 2030 ...` when only version 2024 exists.
Use instead: pass `--framework path/to/framework.pol`.";

    AGGREGATE_BROKEN = "C0111", "aggregate-broken",
"What it checks: an aggregate requirement of a slot holds over a population: a test's
`population`, or every row of a run.
Example: `aggregate sum(result) <= 2% * sum(r.monthly_pension)` with increases totalling 2.3%.
Use instead: lower the amounts so the total stays within the national ratio.";

    FRAMEWORK_ONLY = "C0112", "framework-only-item",
"What it checks: `slot`, `local param` and `locked rule` appear only in frameworks, and
`require`-style checks only where a framework declares them.
Example: `slot bonus(r: Retiree) -> Money { }` in a scheme.
Use instead: define the slot in the framework, implement it with `rule` in the scheme.";

    OUTSIDE_VALIDITY = "C0113", "outside-validity",
"What it checks: a scheme runs only on the dates its requirements are proven for, from its
effective date up to the first horizon (`until`) of the parameters it reads. `pol check` rejects
a scheme that takes effect past such a horizon; `pol run`, `pol test` and `pol eval` refuse an
as-of date before the effective date or past the horizon.
Example: a scheme effective 2027-01-01 implementing a framework whose national minimum is
published `until 2026-12-31`; or `pol run --as-of 2010-06-01` for a scheme effective 2024.
Use instead: implement the framework version in force on that date, or run at a date inside
the scheme's validity.";

    LOCAL_FIELD = "C0114", "local-field",
"What it checks: a scheme adds inputs to a framework record (`local record R { field: Type
cite \"...\" }`) only when the framework opened that record with `local fields for slot, ...`;
every added field cites the provincial document that defines it and is not a key; and only the
slots the framework names may read it (a read by any other slot is C0105).
Why: provinces need inputs the national record lacks (Beijing's 建设征地农转工 retirees, a city's
own wage base), but an input nobody delegated is a door for local small policies.
Example: `local record Retiree { 独生子女: Bool cite \"某市文件\" }` against a framework whose
`Retiree` has no `local fields for` clause.
Use instead: add the field only where the framework delegates it, with its citation.";

    FILED_ADDON = "C0115", "filed-addon",
"What it checks: a provincial add-on (a framework's `filed slot`, such as a local subsidy) is
defined by a scheme only with the approval document it was filed under (`rule 地方增发(r:
Retiree) -> Money/month filed \"某人社函〔2024〕12号\" = ...`), named by its number; and only such
a rule carries `filed`. Left out, the add-on is the framework's `else` amount.
Why: the national system allows local add-ons only where they were filed and approved; any
other local item is a local small policy (地方小政策).
Example: `rule 地方增发(r: Retiree) -> Money/month = 50 yuan` with no `filed` document.
Use instead: name the approval document, or leave the add-on out.";

    OVERFLOW = "R0001", "overflow",
"What it checks (at run time): no exact intermediate exceeds 128 bits and no named value
exceeds 64 bits (about 92 trillion yuan in fen).
Why: Pol never wraps around; the row goes to the error ledger naming the rule and line.
Example:
    rule twice(x: Money) -> Money = x * 2      // with x = 92233720368547758 yuan
Use instead: check the input's declared domain; real amounts are far below the limit.";

    DIVISION_BY_ZERO = "R0002", "division-by-zero",
"What it checks (at run time): no division by zero; the row goes to the error ledger.
Example:
    rule share(total: Money, n: Int) -> Money = total / n      // with n = 0
Use instead: guard the division (`if n > 0 then total / n else 0 yuan`).";

    TABLE_MISS = "R0003", "table-miss",
"What it checks (at run time): a table lookup finds its key; otherwise the row goes to the
error ledger. Declaring the key field's domain to match the table lets the checker prove this.
Example:
    table months(age: Int) -> Decimal { 55: 170, 60: 139 }
    rule per_month(b: Money, age: Int) -> Money = b / months[age]      // with age = 58
Use instead: a row for every key in the domain, or a `match` with an `else` arm.";

    INVALID_DATE = "R0004", "invalid-date",
"What it checks (at run time): date arithmetic stays within years 1 to 9999 and builds only
real dates.
Example:
    add_months(r.birth_date, 12000 months)      // past the year 9999
Use instead: keep durations within the declared domains.";

    MISSING_VALUE = "V0001", "missing-value",
"What it checks: every input column a run needs has a value in every row.
Why: Pol has no default values; an empty cell must not become zero. The row goes to the run's
error ledger (row number, key, column) instead of the output.
Example:
    person_id,monthly_pension
    17,
Use instead: fill the cell in the source data, or leave the row out before the run and account
for it there.";

    OUT_OF_DOMAIN = "V0002", "value-outside-domain",
"What it checks: every input value lies in its field's declared domain (`in 0 ..= 720`).
Why: compliance is proven for every record of the declared domain and only for those; a row
outside it could break a national requirement, so it is not evaluated. It goes to the ledger.
Example:
    contribution: Months in 0 months ..= 720 months     // a row with 721 months
Use instead: correct the data; if such records are real, the framework's domain must be widened
(and the scheme proven again).";

    BAD_VALUE = "V0003", "unreadable-value",
"What it checks: every cell can be read exactly as its field's type: a whole number, a money amount
with at most two decimal places, a calendar date, `true`/`false`, an enum variant's name.
Why: a value Pol would have to guess or round is not read at all; the row goes to the ledger with
the cell and the reason.
Example:
    monthly_pension = 12.345        // more than 2 decimal places
    birth_date = 2020-13-01         // not a date
Use instead: export the column in the field's type (money in yuan with two places, dates as
YYYY-MM-DD).";

    UNWRITABLE = "V0004", "unwritable-result",
"What it checks: every result fits the output column's type (money within Decimal128(18, 2), an
enum index that names a variant).
Why: a result that cannot be written exactly is not written approximately; the row goes to the
ledger.
Example:
    a rule whose result exceeds 10^16 yuan for some row
Use instead: check the rule and the inputs of that row; such amounts are a data or rule error.";

    DUPLICATE_KEY = "V0005", "duplicate-key",
"What it checks: no two rows of a run hold the same key (the record's `key` fields).
Why: a key identifies one person; two rows with one key would pay one person twice, and which of
them is right cannot be known. Every row holding the key goes to the ledger, the first as well
as the later ones, each naming the other rows.
Example:
    person_id,monthly_pension
    17,3265.40
    17,3265.40          // both rows: key `person_id` = 17 is also on row 2
Use instead: remove or merge the repeated records in the source, then run again.";

    TEST_FAILED = "T0001", "test-failed",
"What it checks: a `test` block's assertions hold: the actual value equals the expected one.
`pol test` shows expected and actual values and the failing line.
Example:
    test \"ten years\" { bonus(10) == 21 yuan }      // bonus(10) is 20 yuan
Use instead: fix the rule or the expected value, whichever disagrees with the notice.";

    TEST_ERROR = "T0002", "test-error",
"What it checks: a `test` block evaluates without a runtime error (overflow, division by zero,
table miss).
Example:
    test \"no members\" { share(100 yuan, 0) == 0 yuan }      // divides by zero
Use instead: test inputs the rule is defined for, or guard the rule.";

    INTERNAL = "E9001", "internal-error",
"What it checks: nothing in your file; the compiler met a case it believed impossible.
Why: rather than compute a wrong amount from a guessed value (a zero, a `false`), pol stops and
says so. This is a bug in pol, please report it with the file that triggered it.
Example:
    (any file; the message names the compiler stage and the construct)
Use instead: report the bug; meanwhile, rewriting the construct named in the message (for example
binding a record to a `let`) may avoid it.";
}

/// Looks a code up, case-insensitively.
pub fn lookup(code: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.code.eq_ignore_ascii_case(code))
}
