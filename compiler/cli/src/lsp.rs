//! `pol lsp`: a language server over stdio for editors (VS Code, Neovim, any LSP client).
//!
//! The transport is the `lsp-server` crate, the synchronous scaffold rust-analyzer itself is
//! built on: it does the JSON-RPC framing and the initialize/shutdown handshake and leaves the
//! loop to us, which suits a server whose every answer comes from one call of the front end.
//! Messages are read and written as JSON values in the shapes the LSP specification gives.
//!
//! Every change of a document checks it as `pol check` does (parse, check, and for a scheme its
//! framework, found as `load::find_framework` finds it, and compliance), and publishes the same
//! codes and messages; the checked module then answers hover, definition, references,
//! completion and document symbols. Names are found lexically at the cursor and resolved in the
//! checked module: a local of the enclosing rule, a module name (rule, parameter, table, record,
//! enum), a slot of the framework, a record field or enum variant after a `.`.

use crate::load::{Loaded, UsageError};
use lsp_server::{Connection, Message, Notification, Request, Response};
use pol_core::check::{Loc, Module, Symbol};
use pol_core::compliance::prove::Budget;
use pol_core::span::{SourceFile, Span};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An open document and its last analysis.
struct Doc {
    text: String,
    analysis: Option<Loaded>,
    /// Counts the document's changes; a compliance result for an older one is dropped.
    generation: Arc<AtomicU64>,
}

/// The compliance proofs of a scheme whose structure checked: run after its first diagnostics
/// are published, and published in turn while the document is still the one proved.
struct Proof {
    uri: String,
    framework: SourceFile,
    scheme: SourceFile,
    generation: u64,
    current: Arc<AtomicU64>,
}

impl Proof {
    /// The scheme's full diagnostics (structure and compliance), unless it changed meanwhile.
    fn run(self) -> Option<Notification> {
        let full = pol_core::driver::check_scheme(self.framework, self.scheme, &Budget::default());
        (self.current.load(Ordering::SeqCst) == self.generation).then(|| diagnostics_of(&self.uri, &full))
    }
}

#[derive(Default)]
struct Server {
    docs: HashMap<String, Doc>,
}

pub fn serve() -> Result<ExitCode, UsageError> {
    let (connection, io) = Connection::stdio();
    let capabilities = json!({
        "textDocumentSync": { "openClose": true, "change": 1 },
        "hoverProvider": true,
        "definitionProvider": true,
        "referencesProvider": true,
        "documentSymbolProvider": true,
        "completionProvider": { "triggerCharacters": ["."] },
    });
    let init = json!({ "capabilities": capabilities, "serverInfo": { "name": "pol", "version": env!("CARGO_PKG_VERSION") } });
    let (id, _params) = connection.initialize_start().map_err(|e| UsageError(format!("language server: {e}")))?;
    connection.initialize_finish(id, init).map_err(|e| UsageError(format!("language server: {e}")))?;
    let mut server = Server::default();
    let mut shut_down = false;
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                // `shutdown` is answered, then the loop ends at `exit` (or when the client
                // closes the stream instead of sending it).
                if request.method == "shutdown" {
                    shut_down = true;
                }
                if connection.handle_shutdown(&request).unwrap_or(true) {
                    break;
                }
                let response = server.request(request);
                let _ = connection.sender.send(Message::Response(response));
            }
            Message::Notification(n) => {
                let (out, proof) = server.notification(n);
                for out in out {
                    let _ = connection.sender.send(Message::Notification(out));
                }
                if let Some(proof) = proof {
                    // Proofs take longer than the checks: the editor has the checker's
                    // diagnostics at once and the compliance findings when they are proved.
                    let sender = connection.sender.clone();
                    std::thread::spawn(move || {
                        if let Some(n) = proof.run() {
                            let _ = sender.send(Message::Notification(n));
                        }
                    });
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    // The stream is closed either way; an error joining its threads only says how.
    let _ = io.join();
    // As the protocol asks: 0 after a `shutdown`, 1 when the client went away without one.
    Ok(if shut_down { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn path_of(uri: &str) -> PathBuf {
    let raw = uri.strip_prefix("file://").unwrap_or(uri);
    PathBuf::from(percent_decode(raw))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn uri_of(path: &std::path::Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An LSP position (line, UTF-16 column) of a byte offset.
fn position(text: &str, offset: u32) -> Value {
    let offset = (offset as usize).min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[start..].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

fn range(text: &str, span: Span) -> Value {
    json!({ "start": position(text, span.start), "end": position(text, span.end) })
}

/// The byte offset of an LSP position.
fn offset(text: &str, pos: &Value) -> usize {
    let line = pos["line"].as_u64().unwrap_or(0) as usize;
    let character = pos["character"].as_u64().unwrap_or(0) as usize;
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier at `at`, its span, and the identifier before a `.` just in front of it.
fn word_at(text: &str, at: usize) -> Option<(String, Span, Option<String>)> {
    let at = at.min(text.len());
    let start = text[..at].char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(at, |(i, _)| i);
    let end = text[at..].char_indices().find(|(_, c)| !is_ident(*c)).map_or(text.len(), |(i, _)| at + i);
    if start == end || text[start..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let qualifier = text[..start].strip_suffix('.').map(|before| {
        let q = before.char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(before.len(), |(i, _)| i);
        before[q..].to_string()
    });
    Some((text[start..end].to_string(), Span { start: start as u32, end: end as u32 }, qualifier))
}

/// What a name resolves to.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Symbol(Symbol),
    Slot(usize),
    Field { record: usize, field: usize },
    Variant { en: usize, variant: usize },
    Local { rule: usize, local: usize },
}

struct Analysis<'a> {
    loaded: &'a Loaded,
    /// The index of the document's own source in `loaded.sources`.
    main: usize,
}

impl<'a> Analysis<'a> {
    fn m(&self) -> &'a Module {
        &self.loaded.module
    }

    fn text(&self, file: usize) -> &'a str {
        self.loaded.sources.get(file).map_or("", |s| s.text.as_str())
    }

    fn resolve(&self, at: usize) -> Option<(Target, Span)> {
        let text = self.text(self.main);
        let (word, span, qualifier) = word_at(text, at)?;
        let m = self.m();
        if let Some(q) = qualifier {
            if let Some(en) = m.enums.iter().position(|e| e.name == q) {
                let variant = m.enums[en].variants.iter().position(|v| *v == word)?;
                return Some((Target::Variant { en, variant }, span));
            }
            for (record, r) in m.records.iter().enumerate() {
                if let Some(field) = r.field(&word) {
                    return Some((Target::Field { record, field }, span));
                }
            }
            return None;
        }
        // A local (parameter or `let`) of the rule the cursor is in.
        let here = at as u32;
        let rule = m
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.loc.file.0 as usize == self.main && r.loc.span.start <= here && here <= r.loc.span.end)
            .max_by_key(|(_, r)| r.loc.span.start);
        if let Some((ri, r)) = rule
            && let Some(local) = r.locals.iter().position(|l| l.name == word)
        {
            return Some((Target::Local { rule: ri, local }, span));
        }
        if let Some(symbol) = m.names.get(&word) {
            return Some((Target::Symbol(*symbol), span));
        }
        if let Some(slot) = m.slots.iter().position(|s| s.name == word) {
            return Some((Target::Slot(slot), span));
        }
        None
    }

    /// Where a target is declared: its file and the span of its name.
    fn declaration(&self, target: &Target) -> Option<(usize, Span)> {
        let m = self.m();
        let named = |loc: Loc, name: &str| -> (usize, Span) {
            let file = loc.file.0 as usize;
            let text = self.text(file);
            let item = text.get(loc.span.start as usize..loc.span.end as usize).unwrap_or("");
            // The name's first whole-word occurrence in the item (after its keyword).
            let found = item.match_indices(name).find(|(i, _)| {
                let before = item[..*i].chars().next_back();
                let after = item[i + name.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            });
            let start = loc.span.start + found.map_or(0, |(i, _)| i as u32);
            let end = if found.is_some() { start + name.len() as u32 } else { loc.span.end };
            (file, Span { start, end })
        };
        Some(match *target {
            Target::Symbol(Symbol::Rule(id)) => named(m.rules.get(id.0 as usize)?.loc, &m.rules[id.0 as usize].name),
            Target::Symbol(Symbol::Param(id)) => named(m.params.get(id.0 as usize)?.loc, &m.params[id.0 as usize].name),
            Target::Symbol(Symbol::Table(id)) => named(m.tables.get(id.0 as usize)?.loc, &m.tables[id.0 as usize].name),
            Target::Symbol(Symbol::Record(id)) => named(m.records.get(id.0 as usize)?.loc, &m.records[id.0 as usize].name),
            Target::Symbol(Symbol::Enum(id)) => named(m.enums.get(id.0 as usize)?.loc, &m.enums[id.0 as usize].name),
            Target::Slot(i) => named(m.slots.get(i)?.loc, &m.slots[i].name),
            Target::Field { record, field } => {
                let r = m.records.get(record)?;
                let f = r.fields.get(field)?;
                let file = if f.local { self.main } else { r.loc.file.0 as usize };
                let (file, span) = named(Loc { file: pol_core::check::FileIdx(file as u32), span: f.span }, &f.name);
                (file, span)
            }
            Target::Variant { en, variant } => {
                let e = m.enums.get(en)?;
                named(e.loc, e.variants.get(variant)?)
            }
            Target::Local { rule, local } => {
                let r = m.rules.get(rule)?;
                let l = r.locals.get(local)?;
                named(Loc { file: r.loc.file, span: l.span }, &l.name)
            }
        })
    }

    fn hover(&self, target: &Target) -> Option<String> {
        let m = self.m();
        let cite = |c: &Option<String>| c.as_ref().map(|c| format!("\n\n依据 / cite: {c}")).unwrap_or_default();
        Some(match *target {
            Target::Symbol(Symbol::Rule(id)) => {
                let r = m.rules.get(id.0 as usize)?;
                let params: Vec<String> =
                    r.locals[..r.params.min(r.locals.len())].iter().map(|l| format!("{}: {}", l.name, m.ty_name(l.ty))).collect();
                let kind = if r.locked { "locked rule" } else { "rule" };
                format!("```pol\n{kind} {}({}) -> {}\n```{}", r.name, params.join(", "), m.ty_name(r.ret), cite(&r.cite))
            }
            Target::Slot(i) => {
                let s = m.slots.get(i)?;
                let params: Vec<String> = s.params.iter().map(|l| format!("{}: {}", l.name, m.ty_name(l.ty))).collect();
                let requires: Vec<String> = s.requires.iter().map(|r| format!("- {}", r.text)).collect();
                format!(
                    "```pol\nslot {}({}) -> {}\n```{}{}",
                    s.name,
                    params.join(", "),
                    m.ty_name(s.ret),
                    cite(&s.cite),
                    if requires.is_empty() { String::new() } else { format!("\n\n要求 / requires:\n{}", requires.join("\n")) }
                )
            }
            Target::Symbol(Symbol::Param(id)) => {
                let p = m.params.get(id.0 as usize)?;
                let text = self.text(p.values_file.0 as usize);
                let effective = m.files.get(self.main).and_then(|f| f.effective);
                let in_force = p.values.iter().rposition(|v| v.from.is_none_or(|d| effective.is_none_or(|e| d <= e)));
                let values: Vec<String> = p
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let value = text.get(v.value.span.start as usize..v.value.span.end as usize).unwrap_or("?");
                        let from = v.from.map(|d| format!(" from {}", pol_core::calendar::format_date(d))).unwrap_or_default();
                        format!("- {value}{from}{}", if Some(i) == in_force { "  ← 现行 in force" } else { "" })
                    })
                    .collect();
                let kind = match p.kind {
                    pol_core::check::ParamKind::Local => "local param",
                    pol_core::check::ParamKind::Defined => "param",
                };
                format!("```pol\n{kind} {}: {}\n```\n\n{}{}", p.name, m.ty_name(p.ty), values.join("\n"), cite(&p.cite))
            }
            Target::Symbol(Symbol::Table(id)) => {
                let t = m.tables.get(id.0 as usize)?;
                format!(
                    "```pol\ntable {}: {} -> {}\n```\n\n{} rows{}",
                    t.name,
                    m.ty_name(t.key_ty),
                    m.ty_name(t.value_ty),
                    t.rows.len(),
                    cite(&t.cite)
                )
            }
            Target::Symbol(Symbol::Record(id)) => {
                let r = m.records.get(id.0 as usize)?;
                let fields: Vec<String> =
                    r.fields.iter().map(|f| format!("- {}: {}{}", f.name, m.ty_name(f.ty), title(&f.title))).collect();
                format!("```pol\nrecord {}\n```\n\n{}", r.name, fields.join("\n"))
            }
            Target::Symbol(Symbol::Enum(id)) => {
                let e = m.enums.get(id.0 as usize)?;
                format!("```pol\nenum {} {{ {} }}\n```", e.name, e.variants.join(", "))
            }
            Target::Field { record, field } => {
                let r = m.records.get(record)?;
                let f = r.fields.get(field)?;
                let text = self.text(r.loc.file.0 as usize);
                let declared = text.get(f.span.start as usize..f.span.end as usize).unwrap_or("").trim();
                format!(
                    "```pol\n{}.{}: {}\n```\n\n{}{}{}",
                    r.name,
                    f.name,
                    m.ty_name(f.ty),
                    f.title.clone().unwrap_or_default(),
                    if f.is_key { "\n\nkey 键" } else { "" },
                    if declared.is_empty() { String::new() } else { format!("\n\n```pol\n{declared}\n```") }
                )
            }
            Target::Variant { en, variant } => {
                let e = m.enums.get(en)?;
                format!("```pol\n{}.{}\n```\n\nvariant {} of {}", e.name, e.variants.get(variant)?, variant + 1, e.variants.len())
            }
            Target::Local { rule, local } => {
                let r = m.rules.get(rule)?;
                let l = r.locals.get(local)?;
                let kind = if local < r.params { "parameter" } else { "let" };
                format!("```pol\n{} {}: {}\n```\n\nin rule `{}`", kind, l.name, m.ty_name(l.ty), r.name)
            }
        })
    }

    /// Every occurrence of the target's name in the sources that resolves to it.
    fn references(&self, target: &Target, word: &str) -> Vec<(usize, Span)> {
        let mut out = Vec::new();
        for (file, source) in self.loaded.sources.iter().enumerate() {
            for (i, _) in source.text.match_indices(word) {
                let before = source.text[..i].chars().next_back();
                let after = source.text[i + word.len()..].chars().next();
                if before.is_some_and(is_ident) || after.is_some_and(is_ident) || in_comment_or_string(&source.text, i) {
                    continue;
                }
                let view = Analysis { loaded: self.loaded, main: file };
                if view.resolve(i).map(|(t, _)| t).as_ref() == Some(target) {
                    out.push((file, Span { start: i as u32, end: (i + word.len()) as u32 }));
                }
            }
        }
        out
    }
}

fn title(t: &Option<String>) -> String {
    t.as_ref().map(|t| format!(" — {t}")).unwrap_or_default()
}

/// Whether byte `at` of `text` lies in a `//` comment or a string literal on its line.
fn in_comment_or_string(text: &str, at: usize) -> bool {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut in_string = false;
    let line = &text[start..at];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => return true,
            _ => {}
        }
    }
    in_string
}

impl Server {
    /// Checks the document (a scheme without its compliance proofs, which it returns to be run
    /// next when the structure checked).
    fn analyse(&mut self, uri: &str) -> Option<Proof> {
        let doc = self.docs.get_mut(uri)?;
        let generation = doc.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let path = path_of(uri);
        let src = SourceFile::new(crate::load::display_path(&path), doc.text.clone());
        let (analysis, proof) = match crate::load::find_framework(&path, &src, None) {
            Ok(crate::load::Found::Framework(fw)) => {
                let structure = pol_core::driver::check_scheme_structure(fw.clone(), src.clone());
                let proof = (!structure.has_errors()).then(|| Proof {
                    uri: uri.to_string(),
                    framework: fw,
                    scheme: src,
                    generation,
                    current: doc.generation.clone(),
                });
                (structure, proof)
            }
            Ok(found) => (crate::load::check_found(src, found, &Budget::default()), None),
            // Two frameworks of one name: the file alone, and the reason at its top.
            Err(_) => (pol_core::driver::check_file(src), None),
        };
        doc.analysis = Some(analysis);
        proof
    }

    fn diagnostics(&self, uri: &str) -> Notification {
        match self.docs.get(uri).and_then(|d| d.analysis.as_ref()) {
            Some(loaded) => diagnostics_of(uri, loaded),
            None => Notification::new("textDocument/publishDiagnostics".into(), json!({ "uri": uri, "diagnostics": [] })),
        }
    }
}

/// The diagnostics of a checked document, as `textDocument/publishDiagnostics`.
fn diagnostics_of(uri: &str, loaded: &Loaded) -> Notification {
    let mut out = Vec::new();
    {
        let main = loaded.sources.len().saturating_sub(1);
        let text = loaded.sources.last().map_or("", |s| s.text.as_str());
        for (file, diags) in loaded.diagnostics.iter().enumerate() {
            for d in diags {
                let mut message = d.message.clone();
                if !d.primary.message.is_empty() && d.primary.message != d.message {
                    message.push_str(&format!("\n{}", d.primary.message));
                }
                if let Some(help) = &d.help {
                    message.push_str(&format!("\nhelp: {help}"));
                }
                for note in &d.notes {
                    message.push_str(&format!("\nnote: {note}"));
                }
                // A diagnostic in the framework is shown at the top of the scheme.
                let (r, related) = if file == main {
                    let related: Vec<Value> = d
                        .secondary
                        .iter()
                        .map(|l| json!({ "location": { "uri": uri, "range": range(text, l.span) }, "message": l.message }))
                        .collect();
                    (range(text, d.primary.span), related)
                } else {
                    let fw = &loaded.sources[file];
                    let location = json!({ "uri": uri_of(std::path::Path::new(&fw.name)), "range": range(&fw.text, d.primary.span) });
                    (
                        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }),
                        vec![json!({ "location": location, "message": d.primary.message })],
                    )
                };
                out.push(json!({
                    "range": r,
                    "severity": 1,
                    "code": d.code,
                    "source": "pol",
                    "message": message,
                    "relatedInformation": related,
                }));
            }
        }
    }
    Notification::new("textDocument/publishDiagnostics".into(), json!({ "uri": uri, "diagnostics": out }))
}

impl Server {
    /// What a notification sends back (diagnostics), and the proofs to run after.
    fn notification(&mut self, n: Notification) -> (Vec<Notification>, Option<Proof>) {
        let uri = n.params["textDocument"]["uri"].as_str().unwrap_or("").to_string();
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let text = n.params["textDocument"]["text"].as_str().unwrap_or("").to_string();
                self.docs.insert(uri.clone(), Doc { text, analysis: None, generation: Arc::default() });
            }
            "textDocument/didChange" => {
                // Full synchronisation: the last change holds the whole text.
                let Some(text) = n.params["contentChanges"].as_array().and_then(|c| c.last()).and_then(|c| c["text"].as_str()) else {
                    return (Vec::new(), None);
                };
                match self.docs.get_mut(&uri) {
                    Some(doc) => doc.text = text.to_string(),
                    None => {
                        self.docs.insert(uri.clone(), Doc { text: text.to_string(), analysis: None, generation: Arc::default() });
                    }
                }
            }
            "textDocument/didClose" => {
                if let Some(doc) = self.docs.remove(&uri) {
                    // A proof still running for it is dropped.
                    doc.generation.fetch_add(1, Ordering::SeqCst);
                }
                return (vec![Notification::new("textDocument/publishDiagnostics".into(), json!({ "uri": uri, "diagnostics": [] }))], None);
            }
            _ => return (Vec::new(), None),
        }
        let proof = pol_core::on_compiler_stack(|| self.analyse(&uri));
        (vec![self.diagnostics(&uri)], proof)
    }

    fn request(&mut self, r: Request) -> Response {
        let uri = r.params["textDocument"]["uri"].as_str().unwrap_or("").to_string();
        let result = match self.docs.get(&uri).and_then(|d| d.analysis.as_ref().map(|a| (d, a))) {
            None => Value::Null,
            Some((doc, loaded)) => {
                let a = Analysis { loaded, main: loaded.sources.len().saturating_sub(1) };
                let at = offset(&doc.text, &r.params["position"]);
                match r.method.as_str() {
                    "textDocument/hover" => match a.resolve(at) {
                        Some((target, span)) => a.hover(&target).map_or(
                            Value::Null,
                            |h| json!({ "contents": { "kind": "markdown", "value": h }, "range": range(&doc.text, span) }),
                        ),
                        None => Value::Null,
                    },
                    "textDocument/definition" => match a.resolve(at).and_then(|(t, _)| a.declaration(&t)) {
                        Some((file, span)) => self.location(&a, &uri, file, span),
                        None => Value::Null,
                    },
                    "textDocument/references" => match (a.resolve(at), word_at(&doc.text, at)) {
                        (Some((target, _)), Some((word, _, _))) => Value::Array(
                            a.references(&target, &word).into_iter().map(|(file, span)| self.location(&a, &uri, file, span)).collect(),
                        ),
                        _ => Value::Array(Vec::new()),
                    },
                    "textDocument/documentSymbol" => symbols(&a),
                    "textDocument/completion" => completion(&a, &doc.text, at),
                    _ => {
                        return Response::new_err(
                            r.id,
                            lsp_server::ErrorCode::MethodNotFound as i32,
                            format!("`{}` is not supported", r.method),
                        );
                    }
                }
            }
        };
        Response::new_ok(r.id, result)
    }

    fn location(&self, a: &Analysis<'_>, uri: &str, file: usize, span: Span) -> Value {
        let text = a.text(file);
        let uri = if file == a.main { uri.to_string() } else { uri_of(std::path::Path::new(&a.loaded.sources[file].name)) };
        json!({ "uri": uri, "range": range(text, span) })
    }
}

/// The document's outline: its records (with their fields), enums, parameters, tables, rules,
/// slots and tests.
fn symbols(a: &Analysis<'_>) -> Value {
    let m = a.m();
    let text = a.text(a.main);
    let mine = |loc: &Loc| loc.file.0 as usize == a.main;
    let sym = |name: &str, detail: String, kind: u32, span: Span, children: Vec<Value>| json!({ "name": name, "detail": detail, "kind": kind, "range": range(text, span), "selectionRange": range(text, span), "children": children });
    // LSP SymbolKind: 5 class, 8 field, 10 enum, 12 function, 14 constant, 22 enum member, 23 struct, 24 event.
    let mut out = Vec::new();
    for e in m.enums.iter().filter(|e| mine(&e.loc)) {
        out.push(sym(&e.name, String::new(), 10, e.loc.span, Vec::new()));
    }
    for r in &m.records {
        let fields: Vec<Value> = r
            .fields
            .iter()
            .filter(|f| mine(&r.loc) || f.local)
            .map(|f| sym(&f.name, format!("{}{}", m.ty_name(f.ty), title(&f.title)), 8, f.span, Vec::new()))
            .collect();
        if mine(&r.loc) || !fields.is_empty() {
            out.push(sym(&r.name, String::new(), 23, if mine(&r.loc) { r.loc.span } else { fields_span(r, a.main) }, fields));
        }
    }
    for p in m.params.iter().filter(|p| mine(&p.loc) || p.values_file.0 as usize == a.main && p.loc.file.0 as usize != a.main) {
        let span = if mine(&p.loc) { p.loc.span } else { p.values.first().map_or(Span { start: 0, end: 0 }, |v| v.span) };
        out.push(sym(&p.name, m.ty_name(p.ty), 14, span, Vec::new()));
    }
    for t in m.tables.iter().filter(|t| mine(&t.loc)) {
        out.push(sym(&t.name, format!("{} -> {}", m.ty_name(t.key_ty), m.ty_name(t.value_ty)), 14, t.loc.span, Vec::new()));
    }
    for r in m.rules.iter().filter(|r| mine(&r.loc)) {
        out.push(sym(&r.name, m.ty_name(r.ret), 12, r.loc.span, Vec::new()));
    }
    for s in m.slots.iter().filter(|s| mine(&s.loc)) {
        out.push(sym(&s.name, format!("slot -> {}", m.ty_name(s.ret)), 12, s.loc.span, Vec::new()));
    }
    for t in m.tests.iter().filter(|t| mine(&t.loc)) {
        out.push(sym(&t.name, "test".into(), 24, t.loc.span, Vec::new()));
    }
    out.sort_by_key(|s| (s["range"]["start"]["line"].as_u64(), s["range"]["start"]["character"].as_u64()));
    Value::Array(out)
}

fn fields_span(r: &pol_core::check::RecordInfo, main: usize) -> Span {
    let _ = main;
    let local: Vec<&pol_core::check::FieldInfo> = r.fields.iter().filter(|f| f.local).collect();
    match (local.first(), local.last()) {
        (Some(a), Some(b)) => Span { start: a.span.start, end: b.span.end },
        _ => Span { start: 0, end: 0 },
    }
}

/// Names in scope at the cursor; after `x.`, the fields of records (or an enum's variants).
fn completion(a: &Analysis<'_>, text: &str, at: usize) -> Value {
    let m = a.m();
    let at = at.min(text.len());
    let start = text[..at].char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(at, |(i, _)| i);
    let prefix = &text[start..at];
    let mut items: Vec<Value> = Vec::new();
    let item = |label: &str, kind: u32, detail: String| json!({ "label": label, "kind": kind, "detail": detail });
    if let Some(before) = text[..start].strip_suffix('.') {
        let q = before.char_indices().rev().take_while(|(_, c)| is_ident(*c)).last().map_or(before.len(), |(i, _)| i);
        let qualifier = &before[q..];
        if let Some(e) = m.enums.iter().find(|e| e.name == qualifier) {
            items.extend(e.variants.iter().map(|v| item(v, 20, format!("{}.{v}", e.name))));
        } else {
            for r in &m.records {
                items.extend(r.fields.iter().map(|f| item(&f.name, 5, format!("{}{}", m.ty_name(f.ty), title(&f.title)))));
            }
        }
    } else {
        // CompletionItemKind: 3 function, 5 field, 6 variable, 7 class, 13 enum, 20 enum member, 21 constant.
        let mut names: Vec<(&String, &Symbol)> = m.names.iter().collect();
        names.sort_by(|x, y| x.0.cmp(y.0));
        for (name, symbol) in names {
            let (kind, detail) = match symbol {
                Symbol::Rule(id) => (3, m.rules.get(id.0 as usize).map(|r| m.ty_name(r.ret)).unwrap_or_default()),
                Symbol::Param(id) => (21, m.params.get(id.0 as usize).map(|p| m.ty_name(p.ty)).unwrap_or_default()),
                Symbol::Table(_) => (21, "table".into()),
                Symbol::Record(_) => (7, "record".into()),
                Symbol::Enum(_) => (13, "enum".into()),
            };
            items.push(item(name, kind, detail));
        }
        for s in &m.slots {
            if !m.names.contains_key(&s.name) {
                items.push(item(&s.name, 3, format!("slot -> {}", m.ty_name(s.ret))));
            }
        }
        let here = at as u32;
        if let Some(r) = m
            .rules
            .iter()
            .filter(|r| r.loc.file.0 as usize == a.main && r.loc.span.start <= here && here <= r.loc.span.end)
            .max_by_key(|r| r.loc.span.start)
        {
            items.extend(r.locals.iter().map(|l| item(&l.name, 6, m.ty_name(l.ty))));
        }
    }
    items.retain(|i| i["label"].as_str().is_some_and(|l| l.starts_with(prefix)));
    json!({ "isIncomplete": false, "items": items })
}

/// Latencies of the server's work for one document (`pol bench --lsp`): each change checked
/// and its diagnostics built, and a hover, definition and completion answered after it.
pub struct Latency {
    pub lines: usize,
    /// A change to its first diagnostics (parse and check, with the framework).
    pub change_ms: Vec<f64>,
    /// The compliance proofs after it, to the full diagnostics.
    pub proof_ms: Vec<f64>,
    pub answer_ms: Vec<f64>,
}

/// Opens `text` as the document at `path`, then changes it `rounds` times (a digit of a
/// comment, so every check does the whole work again) and asks at `probe` (a byte offset).
pub fn measure(path: &std::path::Path, text: &str, probe: usize, rounds: usize) -> Latency {
    let uri = uri_of(path);
    let mut server = Server::default();
    let open = |text: &str| {
        Notification::new(
            "textDocument/didOpen".into(),
            json!({ "textDocument": { "uri": uri, "languageId": "pol", "version": 0, "text": text } }),
        )
    };
    let _ = server.notification(open(text));
    let position = position(text, probe as u32);
    let (mut change_ms, mut proof_ms, mut answer_ms) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let changed = format!("{text}\n// {round}\n");
        let t = std::time::Instant::now();
        let change = Notification::new(
            "textDocument/didChange".into(),
            json!({ "textDocument": { "uri": uri, "version": round + 1 }, "contentChanges": [{ "text": changed }] }),
        );
        let (published, proof) = server.notification(change);
        std::hint::black_box(published);
        change_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = std::time::Instant::now();
        std::hint::black_box(proof.and_then(Proof::run));
        proof_ms.push(t.elapsed().as_secs_f64() * 1e3);
        for (k, method) in ["textDocument/hover", "textDocument/definition", "textDocument/completion"].into_iter().enumerate() {
            let request = Request::new(
                lsp_server::RequestId::from((round * 3 + k) as i32),
                method.into(),
                json!({ "textDocument": { "uri": uri }, "position": position }),
            );
            let t = std::time::Instant::now();
            std::hint::black_box(server.request(request));
            answer_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    Latency { lines: text.lines().count(), change_ms, proof_ms, answer_ms }
}
