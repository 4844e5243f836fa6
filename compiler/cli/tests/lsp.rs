//! `pol lsp` spoken to over stdio in JSON-RPC, as an editor speaks to it: diagnostics as a
//! document opens and changes, hover, definition across scheme and framework, references,
//! completion and the outline.

mod common;

use common::{GUANGDONG, repo};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pol"))
            .arg("lsp")
            .current_dir(repo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("pol lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut c = Client { child, stdin, stdout, next: 1 };
        let init = c.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn read(&mut self) -> Value {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).expect("read") > 0, "the server closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).expect("body");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.read();
            if msg["id"] == id {
                assert!(msg.get("error").is_none(), "{method}: {msg}");
                return msg["result"].clone();
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let msg = self.read();
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                return msg["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
        }
    }

    fn stop(mut self) {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "pol lsp exited with {status}");
    }
}

fn uri(path: &std::path::Path) -> String {
    format!("file://{}", std::fs::canonicalize(path).expect("path").display())
}

/// The LSP position of the `nth` occurrence of `needle` (plus `skip` characters into it).
fn at(text: &str, needle: &str, nth: usize, skip: usize) -> Value {
    let offset = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle} #{nth}")).0;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let col: usize = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": col + skip })
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap_or_else(|| panic!("{needle}"))].matches('\n').count()
}

#[test]
fn the_server_checks_as_you_type_and_answers_hover_definition_references_completion_and_outline() {
    let path = repo().join(GUANGDONG);
    let scheme_uri = uri(&path);
    let text = std::fs::read_to_string(&path).expect("scheme");
    let framework = std::fs::read_to_string(repo().join("policies/national/pension_adjustment.pol")).expect("framework");
    let mut c = Client::start();

    // Opened with a mistake: an unknown name, reported with pol check's code where it is.
    let broken = text.replacen("= 定额\n", "= 定额金额\n", 1);
    c.notify("textDocument/didOpen", json!({ "textDocument": { "uri": scheme_uri, "languageId": "pol", "version": 1, "text": broken } }));
    let diags = c.diagnostics(&scheme_uri);
    assert!(!diags.is_empty(), "the mistake is reported");
    let d = &diags[0];
    assert!(d["code"].as_str().unwrap_or("").starts_with('E'), "{d}");
    assert!(d["message"].as_str().unwrap_or("").contains("定额金额"), "{d}");
    assert_eq!(d["range"]["start"]["line"], line_of(&broken, "= 定额金额"), "{d}");
    // Fixed: the diagnostics clear.
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": scheme_uri, "version": 2 }, "contentChanges": [{ "text": text }] }),
    );
    assert_eq!(c.diagnostics(&scheme_uri), Vec::<Value>::new());

    let doc = json!({ "uri": scheme_uri });
    // Hover on a parameter: its type, its value in force and its citation.
    let hover =
        c.request("textDocument/hover", json!({ "textDocument": doc, "position": at(&text, "r.monthly_pension * 挂钩比例", 0, 21) }));
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("挂钩比例: Rate")
            && shown.contains("1.16%")
            && shown.contains("in force")
            && shown.contains("本人调整前基本养老金的1.16%"),
        "{hover}"
    );
    // Hover on a record field: its type and title from the framework.
    let hover =
        c.request("textDocument/hover", json!({ "textDocument": doc, "position": at(&text, "r.monthly_pension * 挂钩比例", 0, 4) }));
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(shown.contains("Retiree.monthly_pension: Money/month") && shown.contains("上年12月基本养老金"), "{hover}");

    // Definition across files: the field is declared in the framework.
    let def =
        c.request("textDocument/definition", json!({ "textDocument": doc, "position": at(&text, "r.monthly_pension * 挂钩比例", 0, 4) }));
    assert!(def["uri"].as_str().unwrap_or("").ends_with("policies/national/pension_adjustment.pol"), "{def}");
    assert_eq!(def["range"]["start"]["line"], line_of(&framework, "monthly_pension: Money/month"), "{def}");
    // A rule called in the scheme, declared in it.
    let def = c.request("textDocument/definition", json!({ "textDocument": doc, "position": at(&text, "年限挂钩(r)", 0, 1) }));
    assert_eq!(def["uri"], scheme_uri);
    assert_eq!(def["range"]["start"]["line"], line_of(&text, "rule 年限挂钩"), "{def}");
    // A local `let`.
    let def = c.request("textDocument/definition", json!({ "textDocument": doc, "position": at(&text, "年限部分 + 水平部分", 0, 1) }));
    assert_eq!(def["range"]["start"]["line"], line_of(&text, "let 年限部分"), "{def}");

    // References: the parameter's declaration and its use, not the words in comments.
    let refs = c.request(
        "textDocument/references",
        json!({ "textDocument": doc, "position": at(&text, "param 挂钩比例", 0, 7), "context": { "includeDeclaration": true } }),
    );
    let lines: Vec<u64> = refs.as_array().expect("locations").iter().map(|l| l["range"]["start"]["line"].as_u64().unwrap_or(0)).collect();
    assert_eq!(lines, vec![line_of(&text, "param 挂钩比例") as u64, line_of(&text, "r.monthly_pension * 挂钩比例") as u64], "{refs}");

    // Completion: a record's fields after `r.`, names in scope otherwise.
    let completion =
        c.request("textDocument/completion", json!({ "textDocument": doc, "position": at(&text, "r.monthly_pension * 挂钩比例", 0, 2) }));
    let labels: Vec<&str> = completion["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"monthly_pension") && labels.contains(&"contribution") && !labels.contains(&"定额"), "{labels:?}");
    let completion = c.request("textDocument/completion", json!({ "textDocument": doc, "position": at(&text, "年限挂钩(r)\n", 0, 2) }));
    let labels: Vec<&str> = completion["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"年限挂钩") && !labels.contains(&"定额"), "names starting 年限: {labels:?}");

    // The outline: parameters, rules and tests of the scheme, in order.
    let symbols = c.request("textDocument/documentSymbol", json!({ "textDocument": doc }));
    let names: Vec<&str> = symbols.as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    for want in ["定额", "挂钩比例", "定额调整", "年限挂钩", "挂钩调整", "倾斜调整", "年龄计算日", "缴费30年，养老金3000元"]
    {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert!(names.iter().position(|n| *n == "定额") < names.iter().position(|n| *n == "年限挂钩"));
    c.stop();
}

#[test]
fn a_non_compliant_scheme_gets_the_checker_diagnostics_first_then_the_proofs() {
    let path = repo().join("policies/rejected/adjustment_above_per_record_cap.pol");
    let scheme_uri = uri(&path);
    let text = std::fs::read_to_string(&path).expect("scheme");
    let mut c = Client::start();
    c.notify("textDocument/didOpen", json!({ "textDocument": { "uri": scheme_uri, "languageId": "pol", "version": 1, "text": text } }));
    // The structure checks: nothing wrong in the file as written.
    assert_eq!(c.diagnostics(&scheme_uri), Vec::<Value>::new());
    // Then the compliance proof: the national per-record cap, with pol check's code.
    let proved = c.diagnostics(&scheme_uri);
    assert!(proved.iter().any(|d| d["code"] == "C0107"), "{proved:?}");
    let check = common::pol(&["check", &path.display().to_string()]);
    assert!(common::text(&check).contains("C0107"));
    c.stop();
}

#[test]
fn a_framework_opens_on_its_own_and_an_unknown_request_is_an_error_not_a_crash() {
    let path = repo().join("policies/national/pension_adjustment.pol");
    let fw_uri = uri(&path);
    let text = std::fs::read_to_string(&path).expect("framework");
    let mut c = Client::start();
    c.notify("textDocument/didOpen", json!({ "textDocument": { "uri": fw_uri, "languageId": "pol", "version": 1, "text": text } }));
    assert_eq!(c.diagnostics(&fw_uri), Vec::<Value>::new());
    let symbols = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": fw_uri } }));
    let names: Vec<&str> = symbols.as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"Retiree") && names.contains(&"挂钩调整") && names.contains(&"national_ratio"), "{names:?}");
    let record = symbols.as_array().expect("symbols").iter().find(|s| s["name"] == "Retiree").expect("record");
    assert!(record["children"].as_array().expect("fields").iter().any(|f| f["name"] == "monthly_pension"));
    let id = 99;
    c.send(json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/rename", "params": { "textDocument": { "uri": fw_uri } } }));
    loop {
        let msg = c.read();
        if msg["id"] == id {
            assert!(msg["error"]["message"].as_str().unwrap_or("").contains("not supported"), "{msg}");
            break;
        }
    }
    c.stop();
}
