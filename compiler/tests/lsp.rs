//! `omnic lsp` spoken to over stdio, as an editor does: JSON-RPC messages
//! with `Content-Length` headers to the real binary. One session walks
//! through the protocol: initialize; open a file with two errors (both
//! reported, with their ranges); fix one (one left); go to a definition;
//! hover a function (its signature and docstring) and an allocation (its
//! CTRR region); complete `(str`; a bad request and an unknown method (an
//! error answer, the server goes on); shutdown and exit (status 0).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// How long one answer may take (the machine may be busy).
const TIMEOUT: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_omnic"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("omnic lsp starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = channel();
        std::thread::spawn(move || loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length:") {
                    length = n.trim().parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("a Content-Length header")];
            stdout.read_exact(&mut body).unwrap();
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        Server {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn next(&self) -> Value {
        self.messages
            .recv_timeout(TIMEOUT)
            .expect("the server answers in time")
    }

    /// Send a request; its response (`result` or `error` inside).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.next();
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let msg = self.request(method, params);
        assert!(msg.get("error").is_none(), "{method}: {msg}");
        msg["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The diagnostics published for `version` of the document.
    fn diagnostics(&self, version: i64) -> Vec<Value> {
        loop {
            let msg = self.next();
            if msg["method"] == "textDocument/publishDiagnostics"
                && msg["params"]["version"] == json!(version)
            {
                return msg["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }
}

const URI: &str = "file:///tmp/omnic-lsp-test/main.omni";

/// The LSP position of the `n`th (0-based) occurrence of `needle` in
/// `text`, plus `delta` UTF-16 units: (line, UTF-16 column).
fn pos(text: &str, needle: &str, n: usize, delta: u32) -> Value {
    let at = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` #{n} in the text"))
        .0;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col: usize = before
        .rsplit('\n')
        .next()
        .unwrap()
        .chars()
        .map(char::len_utf16)
        .sum();
    json!({"line": line, "character": col as u32 + delta})
}

fn range(text: &str, needle: &str, n: usize) -> Value {
    let len: usize = needle.chars().map(char::len_utf16).sum();
    json!({"start": pos(text, needle, n, 0), "end": pos(text, needle, n, len as u32)})
}

fn at(text: &str, needle: &str, n: usize, delta: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": pos(text, needle, n, delta)})
}

fn change(server: &mut Server, version: i64, text: &str) {
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": version},
               "contentChanges": [{"text": text}]}),
    );
}

/// Two errors: an unbound name after a string holding a char outside the
/// BMP (two UTF-16 units, four bytes: the columns must count units), and a
/// malformed `if`.
const BROKEN: &str = r#"(define greet [name {String}] {String}
  "Greet someone by name."
  (string-append "hello " name))
(define pair (cons 1 2))
(println (greet "𝕏") (missing-fn 1))
(println (car pair) (if))
"#;

#[test]
fn a_session_over_stdio() {
    let mut server = Server::start();
    let init = server.result(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    let caps = &init["capabilities"];
    for cap in [
        "definitionProvider",
        "referencesProvider",
        "hoverProvider",
        "completionProvider",
        "documentSymbolProvider",
        "documentFormattingProvider",
    ] {
        assert!(caps.get(cap).is_some(), "{cap} in {init}");
    }
    server.notify("initialized", json!({}));

    // Open: both errors, each with its exact range.
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "omnilisp", "version": 1, "text": BROKEN}}),
    );
    let diags = server.diagnostics(1);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("unbound name `missing-fn`"),
        "{diags:#?}"
    );
    assert_eq!(diags[0]["range"], range(BROKEN, "missing-fn", 0));
    assert_eq!(diags[0]["range"]["start"]["character"], json!(23));
    assert!(
        diags[1]["message"].as_str().unwrap().contains("`if`"),
        "{diags:#?}"
    );
    assert_eq!(diags[1]["range"], range(BROKEN, "if", 0));

    // Fix the first: one left.
    let one_fixed = BROKEN.replace("(missing-fn 1)", "(greet \"y\")");
    change(&mut server, 2, &one_fixed);
    let diags = server.diagnostics(2);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["range"], range(&one_fixed, "if", 0));

    // Definition of a call: the defining name.
    let defs = server.result(
        "textDocument/definition",
        at(&one_fixed, "(greet \"y", 0, 2),
    );
    assert_eq!(
        defs,
        json!([{"uri": URI, "range": range(&one_fixed, "greet", 0)}])
    );

    // References of `greet`: its definition and both calls.
    let mut params = at(&one_fixed, "greet", 0, 1);
    params["context"] = json!({"includeDeclaration": true});
    let refs = server.result("textDocument/references", params.clone());
    assert_eq!(refs.as_array().unwrap().len(), 3, "{refs:#}");
    params["context"] = json!({"includeDeclaration": false});
    let uses = server.result("textDocument/references", params);
    assert_eq!(
        uses,
        json!([{"uri": URI, "range": range(&one_fixed, "greet", 1)},
               {"uri": URI, "range": range(&one_fixed, "greet", 2)}])
    );

    // Hover over the function: its signature and docstring.
    let hover = server.result("textDocument/hover", at(&one_fixed, "(greet \"𝕏", 0, 3));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("(define greet [name {String}] {String})"),
        "{text}"
    );
    assert!(text.contains("Greet someone by name."), "{text}");

    // Hover over a use of a parameter: the local and its annotation.
    let hover = server.result("textDocument/hover", at(&one_fixed, "name))", 0, 1));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("name {String}"), "{text}");
    assert!(text.contains("local variable, bound on line 1"), "{text}");

    // A clean file: hover over an allocation gives CTRR's region and why.
    let clean = one_fixed.replace("(if)", "(if true 1 2)");
    change(&mut server, 3, &clean);
    assert_eq!(server.diagnostics(3), Vec::<Value>::new());
    let hover = server.result("textDocument/hover", at(&clean, "(cons 1 2)", 0, 1));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("allocation"), "{text}");
    assert!(
        text.contains("Cons in `toplevel:pair` -> region state: stored into a global"),
        "{text}"
    );

    // Document symbols: the top-level definitions.
    let symbols = server.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["greet", "pair"]);

    // Formatting: one edit with `omnic fmt`'s text; none for a formatted
    // document (and none for one that does not read, below).
    let messy = format!("{clean}(define   spaced [x]\n      (+ x 1))   \n");
    change(&mut server, 4, &messy);
    let edits = server.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1, "{edits:?}");
    let formatted = edits[0]["newText"].as_str().unwrap();
    assert!(
        formatted.ends_with("(define spaced [x]\n  (+ x 1))\n"),
        "{formatted}"
    );
    change(&mut server, 5, formatted);
    let none = server.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(none, json!([]), "{none}");

    // Completion while typing `(str` (the file does not read then).
    let typing = format!("{clean}(str");
    change(&mut server, 6, &typing);
    let diags = server.diagnostics(6);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let items = server.result("textDocument/completion", at(&typing, "(str", 0, 4));
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"string-append"), "{labels:?}");
    assert!(labels.iter().all(|l| l.starts_with("str")), "{labels:?}");

    // A bad request and an unknown method: errors, and the server goes on.
    let bad = server.request("textDocument/hover", json!({"position": 3}));
    assert_eq!(bad["error"]["code"], json!(-32602), "{bad}");
    let unknown = server.request("omnic/no-such-method", json!({}));
    assert_eq!(unknown["error"]["code"], json!(-32601), "{unknown}");
    let again = server.result("textDocument/definition", at(&typing, "(greet \"y", 0, 2));
    assert_eq!(again.as_array().unwrap().len(), 1, "{again}");

    // Shutdown, exit: status 0.
    let shutdown = server.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    server.notify("exit", Value::Null);
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// `exit` without `shutdown` ends the server with status 1, as the
/// protocol asks.
#[test]
fn exit_without_shutdown_is_status_1() {
    let mut server = Server::start();
    server.result(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    server.notify("initialized", json!({}));
    server.notify("exit", Value::Null);
    assert_eq!(server.child.wait().unwrap().code(), Some(1));
}
