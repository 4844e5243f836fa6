//! The only module that sees pest: turns `grammar/pol.pest` parse trees into our AST.

use super::ast::*;
use crate::calendar;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use pest::Parser as _;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/pol.pest"]
struct PolParser;

type P<'a> = Pair<'a, Rule>;

/// Parses a whole file. On a syntax error returns the one located diagnostic pest can give;
/// literal errors (impossible dates, oversized numbers) are collected and all returned.
pub fn parse_file(text: &str) -> Result<File, Vec<Diagnostic>> {
    // A byte-order mark, as some editors write it, reads as blanks of its own width, so every
    // offset still points into `text`.
    let unmarked;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            unmarked = format!("   {rest}");
            unmarked.as_str()
        }
        None => text,
    };
    let bidi = bidi_controls(text);
    if !bidi.is_empty() {
        return Err(bidi);
    }
    let mut pairs = match PolParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => return Err(vec![syntax_error(text, e)]),
    };
    let invisible = invisible_in_names(&pairs);
    if !invisible.is_empty() {
        return Err(invisible);
    }
    let Some(file) = pairs.next() else {
        return Err(vec![Diagnostic::internal("parsing", "the parser returned no tree for the file", Span::new(0, 0))]);
    };
    let mut b = Builder { diags: Vec::new(), depth: 0, chained: 0 };
    let ast = b.file(file);
    if b.diags.is_empty() { Ok(ast) } else { Err(b.diags) }
}

fn syntax_error(text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    // Point at the whole offending token where there is one, so the label is visible.
    let end = if end > start {
        end
    } else {
        let rest = &text[start.min(text.len())..];
        let tok = rest.char_indices().find(|(_, c)| c.is_whitespace()).map(|(i, _)| i).unwrap_or(rest.len());
        start + tok.max(rest.chars().next().map(char::len_utf8).unwrap_or(0))
    };
    let found = if start >= text.len() { "end of file".to_string() } else { format!("`{}`", &text[start..end.min(text.len())]) };
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } if message.contains("limit reached") => {
            // The parser ran out of room: the text nests far deeper than any rule does.
            return Diagnostic::new(
                &codes::TOO_DEEP,
                format!("the file nests too deeply to be read (expressions may nest at most {MAX_NESTING} levels)"),
                Span::new(start, end.min(text.len())),
                "too deep",
            )
            .with_help("name intermediate values with `let` instead of nesting them");
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let d = Diagnostic::new(
        &codes::SYNTAX,
        format!("expected {expected}, found {found}"),
        Span::new(start, end.min(text.len())),
        format!("expected {expected}"),
    );
    // `max (a, b)`: a name, a space, then `(`.
    let before = text[..start.min(text.len())].trim_end_matches([' ', '\t']);
    let after_name = before.len() < start && before.chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
    if text[start.min(text.len())..].starts_with('(') && after_name {
        d.with_help("to call a rule or function, write `(` right after its name: `max(a, b)`")
    } else {
        d
    }
}

fn describe_expected(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules.iter().map(|r| rule_name(*r)).collect();
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => "something else".into(),
        1 => names[0].into(),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
    }
}

fn rule_name(r: Rule) -> &'static str {
    match r {
        Rule::EOI => "end of file",
        Rule::ident | Rule::label | Rule::callee => "a name",
        Rule::string => "a quoted string",
        Rule::date => "a date (YYYY-MM-DD)",
        Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::cmp_expr => "an expression",
        Rule::sum | Rule::product | Rule::unary | Rule::postfix | Rule::value_pat => "an expression",
        Rule::quantity | Rule::number => "a number",
        Rule::unit => "a unit",
        Rule::type_ref => "a type",
        Rule::cmp_op => "a comparison",
        // Whatever may continue a complete expression is summed up as one "operator".
        Rule::add_op | Rule::mul_op | Rule::kw_and | Rule::kw_or | Rule::field_access | Rule::index => "an operator",
        Rule::range_op => "`..=` or `..<`",
        Rule::version => "a version number",
        Rule::arm | Rule::pattern => "a match arm",
        Rule::band => "a bracket band (`to N: amount` or `above: amount`)",
        Rule::field | Rule::field_init => "a field",
        Rule::table_row => "a table row (`key: value`)",
        Rule::test_stmt | Rule::assertion => "an assertion",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::kw_framework => "`framework`",
        Rule::kw_scheme => "`scheme`",
        Rule::kw_enum => "`enum`",
        Rule::kw_record => "`record`",
        Rule::kw_param => "`param`",
        Rule::kw_local => "`local`",
        Rule::kw_table => "`table`",
        Rule::kw_rule => "`rule`",
        Rule::kw_locked => "`locked`",
        Rule::kw_slot | Rule::slot_item => "`slot`",
        Rule::kw_test => "`test`",
        Rule::kw_cite => "`cite`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_from => "`from`",
        Rule::kw_until => "`until`",
        Rule::kw_in => "`in`",
        Rule::kw_version => "`version`",
        Rule::kw_effective => "`effective`",
        Rule::kw_implements => "`implements`",
        Rule::kw_require => "`require`",
        Rule::kw_aggregate => "`aggregate`",
        Rule::kw_fields | Rule::local_fields => "`local fields for`",
        Rule::kw_filed | Rule::filed | Rule::filed_under => "`filed`",
        Rule::kw_for => "`for`",
        Rule::kw_may => "`may use`",
        Rule::kw_sum => "`sum`",
        Rule::kw_as => "`as of`",
        Rule::kw_to | Rule::kw_above => "`to` or `above`",
        Rule::rule_body | Rule::block => "`=` or `{`",
        Rule::agg_op => "a comparison",
        Rule::locked => "`locked`",
        Rule::rule_item => "`rule`",
        Rule::kw_not => "`not`",
        Rule::kw_if | Rule::guard => "`if`",
        Rule::kw_match => "`match`",
        Rule::kw_brackets => "`brackets`",
        Rule::kw_key | Rule::key_flag => "`key`",
        Rule::period => "a period (`/month`, `/year`)",
        Rule::domain => "`in`",
        Rule::horizon => "`until`",
        Rule::as_of => "`as of`",
        Rule::dated_value => "`=`",
        _ => "a token",
    }
}

struct Builder {
    diags: Vec<Diagnostic>,
    /// How many expression levels (parentheses, `if`, `match`, `brackets`, calls, records,
    /// index keys, `not`, unary minus) enclose the one being built.
    depth: u32,
    /// The operands of the operator chains (`a + b + …`, `r.a.b…`) enclosing the expression
    /// being built, added up: a chain is a left-deep tree, so this bounds how deep the later
    /// passes recurse.
    chained: usize,
}

/// The deepest nesting of expressions a file may have.
pub const MAX_NESTING: u32 = 256;
/// The most operands the chains of operators (`a + b + …`, `r.a.b…`) enclosing one another may
/// have in all.
pub const MAX_CHAIN: usize = 20_000;

/// The span of a pair without trailing whitespace: pest's implicit whitespace before an
/// optional or repeated part that then matches nothing stays inside the pair, which would
/// stretch a span (`= 123 yuan` before a missing `from`) onto the next line.
fn span_of(p: &P) -> Span {
    let s = p.as_span();
    let text = s.as_str();
    let trimmed = text.trim_end_matches([' ', '\t', '\r', '\n', '\u{3000}']);
    Span::new(s.start(), s.start() + trimmed.len())
}

/// A name, in Unicode normalisation form C: two spellings of one text are one name.
fn ident(p: P) -> Ident {
    use unicode_normalization::UnicodeNormalization;
    Ident { name: p.as_str().nfc().collect(), span: span_of(&p) }
}

/// Bidirectional embedding, override and isolate controls: they make text display in an order
/// other than the one it is read in (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Code points that display as nothing (Unicode's default-ignorable code points: joiners,
/// variation selectors, soft hyphen, fillers, tags, …): never part of a name.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

fn bidi_controls(text: &str) -> Vec<Diagnostic> {
    text.char_indices()
        .filter(|(_, c)| is_bidi_control(*c))
        .take(20)
        .map(|(i, c)| {
            Diagnostic::new(
                &codes::BIDI_CONTROL,
                format!("bidirectional control character U+{:04X} in the file", c as u32),
                Span::new(i, i + c.len_utf8()),
                "reorders how the text around it is displayed",
            )
            .with_help("delete it: a policy file never needs it, and it can make a rule read differently from what it computes")
        })
        .collect()
}

fn invisible_in_names(pairs: &pest::iterators::Pairs<Rule>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in pairs.clone().flatten().filter(|p| p.as_rule() == Rule::ident) {
        if let Some((i, c)) = p.as_str().char_indices().find(|(_, c)| is_invisible(*c)) {
            let at = p.as_span().start() + i;
            out.push(
                Diagnostic::new(
                    &codes::INVISIBLE_IN_NAME,
                    format!("the name `{}` holds the invisible character U+{:04X}", p.as_str().replace(c, ""), c as u32),
                    Span::new(at, at + c.len_utf8()),
                    "invisible here",
                )
                .with_help("retype the name without it: it displays like another name but is not the same"),
            );
            if out.len() >= 20 {
                break;
            }
        }
    }
    out
}

fn string(p: P) -> String {
    p.into_inner().next().map(|i| i.as_str().to_string()).unwrap_or_default()
}

impl Builder {
    fn file(&mut self, p: P) -> File {
        let mut header = None;
        let mut items = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::header => header = c.into_inner().next().map(|h| self.header(h)),
                Rule::enum_item => items.push(Item::Enum(self.enum_item(c))),
                Rule::record_item | Rule::local_record_item => items.push(Item::Record(self.record_item(c))),
                Rule::param_item => items.push(Item::Param(self.param_item(c))),
                Rule::local_param_item => items.push(Item::LocalParam(self.local_param_item(c))),
                Rule::table_item => items.push(Item::Table(self.table_item(c))),
                Rule::rule_item => items.push(Item::Rule(self.rule_item(c))),
                Rule::slot_item => items.push(Item::Slot(self.slot_item(c))),
                Rule::test_item => items.push(Item::Test(self.test_item(c))),
                _ => {}
            }
        }
        File { header, items }
    }

    fn header(&mut self, p: P) -> Header {
        let span = span_of(&p);
        let is_framework = p.as_rule() == Rule::framework_header;
        let mut name = None;
        let mut implements = None;
        let mut title = None;
        let mut version = None;
        let mut effective = Dated { day: 0, span };
        let mut cite = None;
        let mut after_implements = false;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident if name.is_none() => name = Some(ident(c)),
                Rule::ident if after_implements => implements = Some(ident(c)),
                Rule::kw_implements => after_implements = true,
                Rule::string => title = Some(string(c)),
                Rule::version => version = Some(c.as_str().to_string()),
                Rule::date => effective = self.date(c),
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        let name = name.unwrap_or_else(|| self.missing_ident(span));
        let kind = if is_framework {
            HeaderKind::Framework { version: version.unwrap_or_default() }
        } else {
            HeaderKind::Scheme { implements: implements.unwrap_or_else(|| self.missing_ident(span)), version }
        };
        Header { kind, name, title, effective, cite, span }
    }

    fn date(&mut self, p: P) -> Dated {
        let span = span_of(&p);
        match calendar::parse_date(p.as_str()) {
            Some(day) => Dated { day, span },
            None => {
                self.diags.push(Diagnostic::new(
                    &codes::BAD_LITERAL,
                    format!("`{}` is not a date in the calendar", p.as_str()),
                    span,
                    "no such day",
                ));
                Dated { day: 0, span }
            }
        }
    }

    fn cite(&mut self, p: P) -> Cite {
        let span = span_of(&p);
        let text = p.into_inner().find(|c| c.as_rule() == Rule::string).map(string).unwrap_or_default();
        Cite { text, span }
    }

    fn enum_item(&mut self, p: P) -> EnumDef {
        let span = span_of(&p);
        let mut it = p.into_inner().filter(|c| c.as_rule() != Rule::kw_enum);
        let name = it.next().map(ident).unwrap_or_else(|| self.missing_ident(span));
        let mut title = None;
        let mut variants = Vec::new();
        for c in it {
            match c.as_rule() {
                Rule::string => title = Some(string(c)),
                Rule::variant => {
                    if let Some(v) = c.into_inner().next() {
                        variants.push(ident(v));
                    }
                }
                _ => {}
            }
        }
        EnumDef { name, title, variants, span }
    }

    fn record_item(&mut self, p: P) -> RecordDef {
        let span = span_of(&p);
        let local = p.as_rule() == Rule::local_record_item;
        let mut it = p.into_inner().filter(|c| !matches!(c.as_rule(), Rule::kw_record | Rule::kw_local));
        let name = it.next().map(ident).unwrap_or_else(|| self.missing_ident(span));
        let mut title = None;
        let mut fields = Vec::new();
        let mut local_for = None;
        for c in it {
            match c.as_rule() {
                Rule::string => title = Some(string(c)),
                Rule::field => fields.push(self.field(c)),
                Rule::local_fields => {
                    let lspan = span_of(&c);
                    let (mut slots, mut cite) = (Vec::new(), None);
                    for d in c.into_inner() {
                        match d.as_rule() {
                            Rule::ident => slots.push(ident(d)),
                            Rule::cite => cite = Some(self.cite(d)),
                            _ => {}
                        }
                    }
                    local_for = Some(LocalFields { slots, cite, span: lspan });
                }
                _ => {}
            }
        }
        RecordDef { name, title, fields, local, local_for, span }
    }

    fn field(&mut self, p: P) -> FieldDef {
        let span = span_of(&p);
        let mut name = Ident { name: String::new(), span };
        let mut ty = None;
        let mut domain = None;
        let mut is_key = false;
        let mut title = None;
        let mut cite = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => name = ident(c),
                Rule::type_ref => ty = Some(self.type_ref(c)),
                Rule::domain => domain = self.domain(c),
                Rule::key_flag => is_key = true,
                Rule::string => title = Some(string(c)),
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        let ty = ty.unwrap_or_else(|| TypeRef { name: name.clone(), period: None, span });
        FieldDef { name, ty, domain, is_key, title, cite, span }
    }

    fn domain(&mut self, p: P) -> Option<RangeExpr> {
        p.into_inner().find(|c| c.as_rule() == Rule::range).map(|r| self.range(r))
    }

    fn range(&mut self, p: P) -> RangeExpr {
        let span = span_of(&p);
        let mut it = p.into_inner();
        let lo = self.opt_expr(it.next(), span);
        let kind = match it.next().map(|o| o.as_str()) {
            Some("..<") => RangeKind::Exclusive,
            _ => RangeKind::Inclusive,
        };
        let hi = self.opt_expr(it.next(), span);
        RangeExpr { lo, kind, hi, span }
    }

    fn type_ref(&mut self, p: P) -> TypeRef {
        let span = span_of(&p);
        let mut it = p.into_inner();
        let name = it.next().map(ident).unwrap_or_else(|| self.missing_ident(span));
        let period = it.next().and_then(|per| {
            per.into_inner().next().map(|u| match u.as_str() {
                "year" | "年" => Period::Year,
                _ => Period::Month,
            })
        });
        TypeRef { name, period, span }
    }

    fn param_item(&mut self, p: P) -> ParamDef {
        let span = span_of(&p);
        let mut name = Ident { name: String::new(), span };
        let mut ty = None;
        let mut values = Vec::new();
        let mut until = None;
        let mut cite = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => name = ident(c),
                Rule::type_ref => ty = Some(self.type_ref(c)),
                Rule::dated_value => {
                    let vspan = span_of(&c);
                    let mut value = None;
                    let mut from = None;
                    for d in c.into_inner() {
                        match d.as_rule() {
                            Rule::expr => value = Some(self.expr(d)),
                            Rule::date => from = Some(self.date(d)),
                            _ => {}
                        }
                    }
                    let value = value.unwrap_or_else(|| self.missing(vspan, "an expression"));
                    values.push(DatedValue { value, from, span: vspan });
                }
                Rule::horizon => until = c.into_inner().find(|d| d.as_rule() == Rule::date).map(|d| self.date(d)),
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        ParamDef { name, ty, values, until, cite, span }
    }

    fn local_param_item(&mut self, p: P) -> LocalParamDef {
        let span = span_of(&p);
        let mut name = Ident { name: String::new(), span };
        let mut ty = None;
        let mut domain = None;
        let mut requires = Vec::new();
        let mut cite = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => name = ident(c),
                Rule::type_ref => ty = Some(self.type_ref(c)),
                Rule::domain => domain = self.domain(c),
                Rule::param_require => {
                    if let Some(e) = c.into_inner().find(|d| d.as_rule() == Rule::expr) {
                        requires.push(self.expr(e));
                    }
                }
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        let ty = ty.unwrap_or_else(|| TypeRef { name: name.clone(), period: None, span });
        LocalParamDef { name, ty, domain, requires, cite, span }
    }

    fn table_item(&mut self, p: P) -> TableDef {
        let span = span_of(&p);
        let mut idents = Vec::new();
        let mut types = Vec::new();
        let mut rows = Vec::new();
        let mut cite = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => idents.push(ident(c)),
                Rule::type_ref => types.push(self.type_ref(c)),
                Rule::table_row => {
                    let rspan = span_of(&c);
                    let mut it = c.into_inner();
                    let key = self.opt_expr(it.next(), rspan);
                    let value = self.opt_expr(it.next(), rspan);
                    rows.push(TableRow { key, value, span: rspan });
                }
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        let mut idents = idents.into_iter();
        let name = idents.next().unwrap_or_else(|| self.missing_ident(span));
        let key_name = idents.next().unwrap_or_else(|| self.missing_ident(span));
        let mut types = types.into_iter();
        let mut blank_ty = || TypeRef { name: self.missing_ident(span), period: None, span };
        let key_ty = types.next().unwrap_or_else(&mut blank_ty);
        let value_ty = types.next().unwrap_or_else(blank_ty);
        TableDef { name, key_name, key_ty, value_ty, rows, cite, span }
    }

    fn params(&mut self, p: P) -> Vec<ParamDecl> {
        p.into_inner()
            .map(|d| {
                let span = span_of(&d);
                let mut it = d.into_inner();
                let name = it.next().map(ident).unwrap_or_else(|| self.missing_ident(span));
                let ty = match it.next() {
                    Some(t) => self.type_ref(t),
                    None => TypeRef { name: name.clone(), period: None, span },
                };
                ParamDecl { name, ty, span }
            })
            .collect()
    }

    fn rule_item(&mut self, p: P) -> RuleDef {
        let span = span_of(&p);
        let mut locked = false;
        let mut name = Ident { name: String::new(), span };
        let mut params = Vec::new();
        let mut ret = None;
        let mut cite = None;
        let mut body = None;
        let mut requires = Vec::new();
        let mut aggregates = Vec::new();
        let mut filed = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::locked => locked = true,
                Rule::filed_under => filed = c.into_inner().find(|d| d.as_rule() == Rule::string).map(|d| (string(d.clone()), span_of(&d))),
                Rule::requirement => requires.push(self.requirement(c)),
                Rule::aggregate => aggregates.push(self.aggregate(c)),
                Rule::ident => name = ident(c),
                Rule::params => params = self.params(c),
                Rule::type_ref => ret = Some(self.type_ref(c)),
                Rule::cite => cite = Some(self.cite(c)),
                Rule::rule_body => body = c.into_inner().next().map(|b| self.body(b)),
                _ => {}
            }
        }
        let body = body.unwrap_or_else(|| Body { lets: Vec::new(), result: self.missing(span, "a rule body") });
        RuleDef { locked, name, params, ret, cite, body, filed, requires, aggregates, span }
    }

    fn body(&mut self, p: P) -> Body {
        match p.as_rule() {
            Rule::block => {
                let span = span_of(&p);
                let mut lets = Vec::new();
                let mut result = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::let_stmt => lets.push(self.let_stmt(c)),
                        Rule::expr => result = Some(self.expr(c)),
                        _ => {}
                    }
                }
                Body { lets, result: result.unwrap_or_else(|| self.missing(span, "an expression")) }
            }
            _ => Body { lets: Vec::new(), result: self.expr(p) },
        }
    }

    fn let_stmt(&mut self, p: P) -> Let {
        let span = span_of(&p);
        let mut name = Ident { name: String::new(), span };
        let mut ty = None;
        let mut value = None;
        let mut cite = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => name = ident(c),
                Rule::type_ref => ty = Some(self.type_ref(c)),
                Rule::expr => value = Some(self.expr(c)),
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        Let { name, ty, value: value.unwrap_or_else(|| self.missing(span, "an expression")), cite, span }
    }

    fn slot_item(&mut self, p: P) -> SlotDef {
        let span = span_of(&p);
        let mut name = Ident { name: String::new(), span };
        let mut params = Vec::new();
        let mut ret = None;
        let mut cite = None;
        let mut may_use = Vec::new();
        let mut requires = Vec::new();
        let mut aggregates = Vec::new();
        let mut is_filed = false;
        let mut default = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::filed => is_filed = true,
                Rule::expr => default = Some(self.expr(c)),
                Rule::ident => name = ident(c),
                Rule::params => params = self.params(c),
                Rule::type_ref => ret = Some(self.type_ref(c)),
                Rule::cite => cite = Some(self.cite(c)),
                Rule::may_use => {
                    for e in c.into_inner().filter(|e| e.as_rule() == Rule::expr) {
                        may_use.push(self.expr(e));
                    }
                }
                Rule::requirement => requires.push(self.requirement(c)),
                Rule::aggregate => aggregates.push(self.aggregate(c)),
                _ => {}
            }
        }
        let ret = ret.unwrap_or_else(|| TypeRef { name: name.clone(), period: None, span });
        // The grammar gives a filed slot its `else` amount, and only a filed slot.
        let filed = match (is_filed, default) {
            (true, Some(d)) => Some(d),
            (true, None) => Some(self.missing(span, "the `else` amount of a filed slot")),
            (false, Some(d)) => {
                self.internal(d.span, "a `filed` marker for the slot's `else` amount");
                None
            }
            (false, None) => None,
        };
        SlotDef { filed, name, params, ret, cite, may_use, requires, aggregates, span }
    }

    fn requirement(&mut self, p: P) -> Requirement {
        let span = span_of(&p);
        let mut cond = None;
        let mut cite = None;
        let mut monotone = None;
        for d in p.into_inner() {
            match d.as_rule() {
                Rule::expr => cond = Some(self.expr(d)),
                Rule::cite => cite = Some(self.cite(d)),
                Rule::monotone => monotone = Some(self.monotone(d)),
                _ => {}
            }
        }
        let cond = cond.unwrap_or_else(|| self.missing(span, "an expression"));
        Requirement { cond, monotone, cite, span }
    }

    fn monotone(&mut self, p: P) -> Monotone {
        let span = span_of(&p);
        let mut nondecreasing = true;
        let mut input = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::monotone_dir => nondecreasing = c.into_inner().any(|k| k.as_rule() == Rule::kw_nondecreasing),
                Rule::expr => input = Some(self.expr(c)),
                _ => {}
            }
        }
        let input = input.unwrap_or_else(|| self.missing(span, "an input"));
        Monotone { nondecreasing, input, span }
    }

    fn aggregate(&mut self, p: P) -> Aggregate {
        let span = span_of(&p);
        let mut terms = Vec::new();
        let mut op = AggOp::Le;
        let mut cite = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::agg_term => {
                    let tspan = span_of(&c);
                    let mut factor = None;
                    let mut sum_of = None;
                    for d in c.into_inner() {
                        match d.as_rule() {
                            Rule::factor => factor = d.into_inner().next().map(|u| self.expr(u)),
                            Rule::expr => sum_of = Some(self.expr(d)),
                            _ => {}
                        }
                    }
                    let sum_of = sum_of.unwrap_or_else(|| self.missing(tspan, "an expression"));
                    terms.push(AggTerm { factor, sum_of, span: tspan });
                }
                Rule::agg_op => {
                    op = match c.as_str() {
                        "<" => AggOp::Lt,
                        ">" => AggOp::Gt,
                        ">=" => AggOp::Ge,
                        _ => AggOp::Le,
                    }
                }
                Rule::cite => cite = Some(self.cite(c)),
                _ => {}
            }
        }
        let mut terms = terms.into_iter();
        let mut blank = || AggTerm { factor: None, sum_of: self.missing(span, "a sum"), span };
        let lhs = terms.next().unwrap_or_else(&mut blank);
        let rhs = terms.next().unwrap_or_else(blank);
        Aggregate { lhs, op, rhs, cite, span }
    }

    fn test_item(&mut self, p: P) -> TestDef {
        let span = span_of(&p);
        let mut name = String::new();
        let mut as_of = None;
        let mut stmts = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::string => name = string(c),
                Rule::as_of => as_of = c.into_inner().find(|d| d.as_rule() == Rule::date).map(|d| self.date(d)),
                Rule::let_stmt => stmts.push(TestStmt::Let(self.let_stmt(c))),
                Rule::assertion => {
                    if let Some(e) = c.into_inner().next() {
                        stmts.push(TestStmt::Assert(self.expr(e)));
                    }
                }
                Rule::population => {
                    let pspan = span_of(&c);
                    let mut pname = Ident { name: String::new(), span: pspan };
                    let mut rows = Vec::new();
                    for d in c.into_inner() {
                        match d.as_rule() {
                            Rule::ident => pname = ident(d),
                            Rule::expr => rows.push(self.expr(d)),
                            _ => {}
                        }
                    }
                    stmts.push(TestStmt::Population { name: pname, rows, span: pspan });
                }
                _ => {}
            }
        }
        TestDef { name, as_of, stmts, span }
    }

    /// A child the grammar guarantees is missing: an internal error, never a made-up value
    /// (the parse then fails, so the expression returned is never checked or run).
    fn missing(&mut self, span: Span, what: &str) -> Expr {
        self.internal(span, what);
        stub(span)
    }

    fn missing_ident(&mut self, span: Span) -> Ident {
        self.internal(span, "a name");
        Ident { name: String::new(), span }
    }

    fn internal(&mut self, span: Span, what: &str) {
        let d = Diagnostic::internal("parsing", format!("the parse tree lacks {what} the grammar requires"), span);
        if !self.diags.contains(&d) {
            self.diags.push(d);
        }
    }

    /// Counts one more level of nesting while `f` builds it; past [`MAX_NESTING`] the file is
    /// refused with a located diagnostic.
    fn nested(&mut self, span: Span, levels: u32, f: impl FnOnce(&mut Self) -> Expr) -> Expr {
        self.depth += levels;
        let e = if self.depth > MAX_NESTING {
            self.too_deep(span, format!("expressions nest more than {MAX_NESTING} levels deep here"));
            stub(span)
        } else {
            f(self)
        };
        self.depth -= levels;
        e
    }

    fn too_deep(&mut self, span: Span, message: String) {
        if self.diags.iter().any(|d| d.code == codes::TOO_DEEP.code) {
            return;
        }
        self.diags.push(
            Diagnostic::new(&codes::TOO_DEEP, message, span, "too deep")
                .with_help("name intermediate values with `let` instead of nesting them"),
        );
    }

    /// Builds a chain of `operands` operands with `f`, within [`MAX_CHAIN`] operands in all for
    /// the chains enclosing one another; past it the file is refused with a located diagnostic.
    fn chain(&mut self, span: Span, operands: usize, what: &str, f: impl FnOnce(&mut Self) -> Expr) -> Expr {
        if self.chained.saturating_add(operands) > MAX_CHAIN {
            self.too_deep(span, format!("more than {MAX_CHAIN} operands in chains of {what} here"));
            return stub(span);
        }
        self.chained += operands;
        let e = f(self);
        self.chained -= operands;
        e
    }

    fn opt_expr(&mut self, p: Option<P>, span: Span) -> Expr {
        match p {
            Some(p) => self.expr(p),
            None => self.missing(span, "an expression"),
        }
    }

    /// Builds an expression from any expression-level rule.
    fn expr(&mut self, p: P) -> Expr {
        if matches!(p.as_rule(), Rule::if_expr | Rule::match_expr | Rule::brackets_expr | Rule::record_lit | Rule::call) {
            let span = span_of(&p);
            return self.nested(span, 1, |b| b.expr_node(p));
        }
        self.expr_node(p)
    }

    fn expr_node(&mut self, p: P) -> Expr {
        let span = span_of(&p);
        match p.as_rule() {
            Rule::paren => {
                // The parentheses belong to the expression: a message quoting `(a + b) * c`
                // must not cut them off.
                let inner = p.into_inner().next();
                let mut e = self.nested(span, 1, |b| b.opt_expr(inner, span));
                e.span = span;
                e
            }
            Rule::expr | Rule::value_pat | Rule::factor => {
                let inner = p.into_inner().next();
                self.opt_expr(inner, span)
            }
            Rule::or_expr | Rule::and_expr => {
                let op = if p.as_rule() == Rule::or_expr { BinOp::Or } else { BinOp::And };
                let operands: Vec<P> = p.into_inner().filter(|c| !matches!(c.as_rule(), Rule::kw_or | Rule::kw_and)).collect();
                self.chain(span, operands.len(), "`and`/`or`", |b| {
                    let mut operands = operands.into_iter();
                    let mut acc = b.opt_expr(operands.next(), span);
                    for c in operands {
                        let rhs = b.expr(c);
                        acc = binary(op, acc, rhs);
                    }
                    acc
                })
            }
            Rule::not_expr => {
                let mut it = p.into_inner();
                match it.next() {
                    Some(first) if first.as_rule() == Rule::kw_not => {
                        let inner = self.nested(span, 1, |b| b.opt_expr(it.next(), span));
                        Expr { kind: ExprKind::Not(Box::new(inner)), span }
                    }
                    other => self.opt_expr(other, span),
                }
            }
            Rule::cmp_expr | Rule::sum | Rule::product => {
                let parts: Vec<P> = p.into_inner().collect();
                self.chain(span, parts.len().div_ceil(2), "operators", |b| {
                    let mut it = parts.into_iter();
                    let mut acc = b.opt_expr(it.next(), span);
                    while let Some(op) = it.next() {
                        let op = bin_op(op.as_str());
                        let rhs = b.opt_expr(it.next(), span);
                        acc = binary(op, acc, rhs);
                    }
                    acc
                })
            }
            Rule::unary => {
                let mut negs = Vec::new();
                let mut operand = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::neg => negs.push(span_of(&c)),
                        _ => operand = Some(c),
                    }
                }
                let levels = u32::try_from(negs.len()).unwrap_or(u32::MAX - MAX_NESTING);
                let mut e = self.nested(span, levels, |b| b.opt_expr(operand, span));
                for s in negs.into_iter().rev() {
                    let sp = s.to(e.span);
                    e = Expr { kind: ExprKind::Neg(Box::new(e)), span: sp };
                }
                e
            }
            Rule::postfix => {
                let parts: Vec<P> = p.into_inner().collect();
                self.chain(span, parts.len(), "`.` and `[…]`", |b| {
                    let mut it = parts.into_iter();
                    let mut acc = b.opt_expr(it.next(), span);
                    for c in it {
                        let cspan = span_of(&c);
                        match c.as_rule() {
                            Rule::field_access => {
                                let name = c.into_inner().next().map(ident).unwrap_or_else(|| b.missing_ident(cspan));
                                let sp = acc.span.to(cspan);
                                acc = Expr { kind: ExprKind::Field(Box::new(acc), name), span: sp };
                            }
                            Rule::index => {
                                let key = b.nested(cspan, 1, |b| b.opt_expr(c.into_inner().next(), cspan));
                                let sp = acc.span.to(cspan);
                                acc = Expr { kind: ExprKind::Index(Box::new(acc), Box::new(key)), span: sp };
                            }
                            _ => {}
                        }
                    }
                    acc
                })
            }
            Rule::date => {
                let d = self.date(p);
                Expr { kind: ExprKind::Date(d.day), span }
            }
            Rule::quantity => self.quantity(p),
            Rule::boolean => {
                let v = p.as_str() == "true";
                Expr { kind: ExprKind::Bool(v), span }
            }
            Rule::ident => Expr { kind: ExprKind::Name(ident(p)), span },
            Rule::if_expr => {
                let mut it = p.into_inner().filter(|c| c.as_rule() == Rule::expr);
                let cond = self.opt_expr(it.next(), span);
                let then = self.opt_expr(it.next(), span);
                let els = self.opt_expr(it.next(), span);
                Expr { kind: ExprKind::If { cond: Box::new(cond), then: Box::new(then), els: Box::new(els) }, span }
            }
            Rule::match_expr => {
                let mut scrutinee = None;
                let mut arms = Vec::new();
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::expr => scrutinee = Some(Box::new(self.expr(c))),
                        Rule::arm => arms.push(self.arm(c)),
                        _ => {}
                    }
                }
                Expr { kind: ExprKind::Match { scrutinee, arms }, span }
            }
            Rule::brackets_expr => {
                let mut value = None;
                let mut bands = Vec::new();
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::expr => value = Some(self.expr(c)),
                        Rule::band => {
                            let bspan = span_of(&c);
                            let mut upto = None;
                            let mut rate = None;
                            for d in c.into_inner() {
                                match d.as_rule() {
                                    Rule::sum => upto = Some(self.expr(d)),
                                    Rule::expr => rate = Some(self.expr(d)),
                                    _ => {}
                                }
                            }
                            let rate = rate.unwrap_or_else(|| self.missing(bspan, "an expression"));
                            bands.push(Band { upto, rate, span: bspan });
                        }
                        _ => {}
                    }
                }
                let value = Box::new(value.unwrap_or_else(|| self.missing(span, "an expression")));
                Expr { kind: ExprKind::Brackets { value, bands }, span }
            }
            Rule::record_lit => {
                let mut it = p.into_inner();
                let name = it.next().map(ident).unwrap_or_else(|| self.missing_ident(span));
                let fields = it
                    .map(|f| {
                        let fspan = span_of(&f);
                        let mut fi = f.into_inner();
                        let fname = fi.next().map(ident).unwrap_or_else(|| self.missing_ident(fspan));
                        let value = self.opt_expr(fi.next(), fspan);
                        (fname, value)
                    })
                    .collect();
                Expr { kind: ExprKind::Record { name, fields }, span }
            }
            Rule::call => {
                let mut it = p.into_inner();
                let func = it.next().and_then(|callee| callee.into_inner().next()).map(ident).unwrap_or_else(|| self.missing_ident(span));
                let args = it
                    .map(|a| {
                        let aspan = span_of(&a);
                        let mut label = None;
                        let mut value = None;
                        for d in a.into_inner() {
                            match d.as_rule() {
                                Rule::label => label = Some(ident(d)),
                                Rule::expr => value = Some(self.expr(d)),
                                _ => {}
                            }
                        }
                        Arg { label, value: value.unwrap_or_else(|| self.missing(aspan, "an expression")) }
                    })
                    .collect();
                Expr { kind: ExprKind::Call { func, args }, span }
            }
            _ => {
                // Any other expression-level rule has exactly one meaningful child.
                let inner = p.into_inner().next();
                self.opt_expr(inner, span)
            }
        }
    }

    fn arm(&mut self, p: P) -> Arm {
        let span = span_of(&p);
        let mut pattern = Pattern::Else(span);
        let mut guard = None;
        let mut body = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::else_pat => pattern = Pattern::Else(span_of(&c)),
                Rule::pattern => {
                    if let Some(inner) = c.into_inner().next() {
                        let pspan = span_of(&inner);
                        pattern = match inner.as_rule() {
                            Rule::range_pat => {
                                let r = self.range(inner);
                                Pattern::Range(r)
                            }
                            Rule::cmp_pat => {
                                let mut it = inner.into_inner();
                                let op = it.next().map(|o| bin_op(o.as_str())).unwrap_or(BinOp::Eq);
                                let v = self.opt_expr(it.next(), pspan);
                                Pattern::Compare(op, v, pspan)
                            }
                            _ => Pattern::Value(self.expr(inner)),
                        };
                    }
                }
                Rule::guard => guard = c.into_inner().find(|d| d.as_rule() == Rule::expr).map(|e| self.expr(e)),
                Rule::expr => body = Some(self.expr(c)),
                _ => {}
            }
        }
        Arm { pattern, guard, body: body.unwrap_or_else(|| self.missing(span, "an expression")), span }
    }

    fn quantity(&mut self, p: P) -> Expr {
        let span = span_of(&p);
        let mut it = p.into_inner();
        let num = it.next().map(|n| n.as_str().replace('_', "")).unwrap_or_default();
        let (int_part, frac_part) = num.split_once('.').unwrap_or((&num, ""));
        let scale = frac_part.len() as u32;
        let digits: Option<i128> = format!("{int_part}{frac_part}").parse().ok();
        let digits = match digits {
            Some(d) if scale <= 18 && d <= i64::MAX as i128 * 10_000 => d,
            _ => {
                self.diags.push(Diagnostic::new(
                    &codes::BAD_LITERAL,
                    format!("the number `{num}` is too large or too precise"),
                    span,
                    "at most 18 decimal places and 23 digits",
                ));
                0
            }
        };
        let (unit, period) = match it.next() {
            None => (Unit::None, None),
            Some(u) => {
                let text = u.as_str();
                let period = if text.ends_with("/month") || text.ends_with("/月") {
                    Some(Period::Month)
                } else if text.ends_with("/year") || text.ends_with("/年") {
                    Some(Period::Year)
                } else {
                    None
                };
                let base = text.split('/').next().unwrap_or(text);
                let unit = match base {
                    "%" | "％" => Unit::Percent,
                    "yuan" | "元" => Unit::Yuan,
                    "fen" | "分" => Unit::Fen,
                    "years" | "year" | "年" => Unit::Years,
                    _ => Unit::Months,
                };
                (unit, period)
            }
        };
        Expr { kind: ExprKind::Number { digits, scale, unit, period }, span }
    }
}

/// What stands in for an expression the parse refused (it comes with a diagnostic, so the
/// file is never checked or run).
fn stub(span: Span) -> Expr {
    Expr { kind: ExprKind::Name(Ident { name: String::new(), span }), span }
}

fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
    let span = a.span.to(b.span);
    Expr { kind: ExprKind::Binary(op, Box::new(a), Box::new(b)), span }
}

fn bin_op(s: &str) -> BinOp {
    match s {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" | "×" => BinOp::Mul,
        "/" | "÷" => BinOp::Div,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "and" => BinOp::And,
        _ => BinOp::Or,
    }
}
