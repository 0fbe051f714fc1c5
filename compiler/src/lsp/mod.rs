//! `omnic lsp`: the language server, over stdio (JSON-RPC, `lsp-server`).
//!
//! Each open document is analysed by the front end (`analysis.rs`: read
//! and expand with recovery, so every error of the file is reported, then
//! lowering and CTRR when the file is clean; no code generation), after
//! each change once no further message is waiting (a burst of keystrokes
//! costs one analysis). Requests — definition, references, hover,
//! completion, document symbols — answer from the last analysis of their
//! document. Positions are converted between the compiler's byte offsets
//! and LSP's UTF-16 columns by `text.rs`. A panic inside an analysis is
//! reported as a diagnostic, never a crash of the server.

mod analysis;
mod text;

pub use analysis::{Host, ImportLoad};

use analysis::{symbol_at, symbols_named, Analysis, DefKind, Definition, Target};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::*;
use std::collections::HashMap;
use std::path::PathBuf;
use text::{path_to_uri, uri_to_path, LineIndex};

/// How many allocation decisions one hover shows.
const MAX_SITES_SHOWN: usize = 6;

/// An open document and its last analysis.
struct Document {
    text: String,
    version: i32,
    path: PathBuf,
    lines: LineIndex,
    analysis: Option<Analysis>,
    /// Changed since the last analysis.
    dirty: bool,
}

struct Server<'c> {
    conn: &'c Connection,
    host: Host,
    prelude: std::rc::Rc<Vec<crate::syntax::Datum>>,
    docs: HashMap<Uri, Document>,
}

/// Run the server on stdin/stdout until `exit`. `Ok(0)` after a
/// `shutdown` then `exit`; `Ok(1)` on an `exit` without `shutdown` (as the
/// protocol says); `Err` when the connection breaks.
pub fn run_stdio(host: Host) -> Result<i32, String> {
    // A panic in an analysis is caught and reported to the client; the
    // driver's hook would end the process.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("omnic lsp: internal compiler error: {info}");
    }));
    let (conn, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["(".into(), "/".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "omnic", "version": env!("CARGO_PKG_VERSION") },
    });
    let (id, _params) = conn.initialize_start().map_err(|e| e.to_string())?;
    conn.initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let prelude = analysis::read_prelude(&host);
    let mut server = Server {
        conn: &conn,
        host,
        prelude,
        docs: HashMap::new(),
    };
    let status = server.main_loop();
    drop(server);
    drop(conn);
    io_threads.join().map_err(|e| e.to_string())?;
    status
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<i32, String> {
        use crossbeam_channel::TryRecvError;
        loop {
            let msg = match self.conn.receiver.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Empty) => {
                    // Nothing waiting: now analyse what changed.
                    self.analyse_dirty();
                    match self.conn.receiver.recv() {
                        Ok(msg) => msg,
                        Err(_) => return Err("the client closed the connection".into()),
                    }
                }
                Err(TryRecvError::Disconnected) => {
                    return Err("the client closed the connection".into())
                }
            };
            match msg {
                Message::Request(req) => {
                    if self.conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(0);
                    }
                    // A panic while answering is an error answer, not
                    // the end of the server.
                    let id = req.id.clone();
                    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.request(req)
                    }));
                    let resp = answer.unwrap_or_else(|payload| {
                        Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            format!("internal compiler error: {}", panic_text(&*payload)),
                        )
                    });
                    self.send(resp.into());
                }
                Message::Notification(n) if n.method == notification::Exit::METHOD => return Ok(1),
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) {
        let _ = self.conn.sender.send(msg);
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(p) = n.clone().extract::<DidOpenTextDocumentParams>(&n.method) else {
                    return;
                };
                let doc = p.text_document;
                let path = uri_to_path(&doc.uri).unwrap_or_else(|| PathBuf::from(doc.uri.as_str()));
                self.docs.insert(
                    doc.uri,
                    Document {
                        lines: LineIndex::new(&doc.text),
                        text: doc.text,
                        version: doc.version,
                        path,
                        analysis: None,
                        dirty: true,
                    },
                );
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(p) = n.clone().extract::<DidChangeTextDocumentParams>(&n.method) else {
                    return;
                };
                let Some(doc) = self.docs.get_mut(&p.text_document.uri) else {
                    return;
                };
                for change in p.content_changes {
                    match change.range {
                        // Full sync is what the server asks for; a ranged
                        // change is applied all the same.
                        Some(r) => {
                            let start = doc.lines.offset(&doc.text, r.start);
                            let end = doc.lines.offset(&doc.text, r.end).max(start);
                            doc.text.replace_range(start..end, &change.text);
                        }
                        None => doc.text = change.text,
                    }
                    doc.lines = LineIndex::new(&doc.text);
                }
                doc.version = p.text_document.version;
                doc.dirty = true;
            }
            notification::DidCloseTextDocument::METHOD => {
                let Ok(p) = n.clone().extract::<DidCloseTextDocumentParams>(&n.method) else {
                    return;
                };
                self.docs.remove(&p.text_document.uri);
                self.publish(p.text_document.uri, Vec::new(), None);
            }
            notification::DidSaveTextDocument::METHOD => {
                // An imported file may have changed on disk.
                self.docs.values_mut().for_each(|d| d.dirty = true);
            }
            _ => {}
        }
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(
            Notification::new(notification::PublishDiagnostics::METHOD.to_string(), params).into(),
        );
    }

    /// Analyse every changed document and publish its diagnostics.
    fn analyse_dirty(&mut self) {
        let dirty: Vec<Uri> = self
            .docs
            .iter()
            .filter(|(_, d)| d.dirty)
            .map(|(u, _)| u.clone())
            .collect();
        for uri in dirty {
            self.ensure_analysed(&uri);
        }
    }

    /// Analyse `uri` if it changed since its last analysis (and publish).
    fn ensure_analysed(&mut self, uri: &Uri) {
        let Some(doc) = self.docs.get_mut(uri) else {
            return;
        };
        if !doc.dirty {
            return;
        }
        doc.dirty = false;
        let started = std::time::Instant::now();
        let (host, prelude) = (&self.host, &self.prelude);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            analysis::analyse(host, prelude, &doc.path, &doc.text)
        }));
        // The last analysis is freed after the new diagnostics are out.
        let previous;
        let diagnostics = match run {
            Ok(a) => {
                let ds = a
                    .diagnostics
                    .iter()
                    .map(|d| to_lsp_diagnostic(&a, d, uri, &self.host, &doc.lines))
                    .collect();
                previous = doc.analysis.replace(a);
                ds
            }
            Err(payload) => {
                let what = panic_text(&*payload);
                previous = doc.analysis.take();
                vec![lsp_types::Diagnostic {
                    range: Range::default(),
                    severity: Some(DiagnosticSeverity::ERROR),
                    source: Some("omnic".into()),
                    message: format!("internal compiler error: {what}"),
                    ..Default::default()
                }]
            }
        };
        let version = doc.version;
        self.publish(uri.clone(), diagnostics, Some(version));
        if std::env::var_os("OMNI_LSP_TRACE").is_some() {
            eprintln!(
                "omnic lsp: version {version} analysed and published in {:.1} ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        drop(previous);
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            request::GotoDefinition::METHOD => {
                self.answer::<request::GotoDefinition>(req, |s, p| {
                    let at = p.text_document_position_params;
                    s.definition(&at.text_document.uri, at.position)
                        .map(GotoDefinitionResponse::Array)
                })
            }
            request::References::METHOD => self.answer::<request::References>(req, |s, p| {
                let at = p.text_document_position;
                let declarations = p.context.include_declaration;
                s.references(&at.text_document.uri, at.position, declarations)
            }),
            request::HoverRequest::METHOD => self.answer::<request::HoverRequest>(req, |s, p| {
                let at = p.text_document_position_params;
                s.hover(&at.text_document.uri, at.position)
            }),
            request::Completion::METHOD => self.answer::<request::Completion>(req, |s, p| {
                let at = p.text_document_position;
                s.completion(&at.text_document.uri, at.position)
                    .map(CompletionResponse::Array)
            }),
            request::DocumentSymbolRequest::METHOD => self
                .answer::<request::DocumentSymbolRequest>(req, |s, p| {
                    s.symbols(&p.text_document.uri)
                        .map(DocumentSymbolResponse::Nested)
                }),
            request::Formatting::METHOD => {
                self.answer::<request::Formatting>(req, |s, p| s.formatting(&p.text_document.uri))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("unknown method `{other}`"),
            )),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// Decode the request's parameters and answer with `f` (bad
    /// parameters are an `InvalidParams` error, not a crash).
    fn answer<R: request::Request>(
        &mut self,
        req: Request,
        f: impl FnOnce(&mut Self, R::Params) -> R::Result,
    ) -> Result<serde_json::Value, (ErrorCode, String)> {
        let method = req.method.clone();
        let (_, params): (RequestId, R::Params) = req.extract(&method).map_err(|e| {
            (
                ErrorCode::InvalidParams,
                format!("invalid parameters: {e:?}"),
            )
        })?;
        let answer = f(self, params);
        serde_json::to_value(answer).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    /// `textDocument/formatting`: the whole document formatted as
    /// `omnic fmt` formats it (docs/STYLE.md), one edit replacing the text
    /// (none when it is formatted already). A document that does not read
    /// is left alone (no edits): its diagnostics say why.
    fn formatting(&self, uri: &Uri) -> Option<Vec<TextEdit>> {
        let doc = self.docs.get(uri)?;
        let formatted = crate::fmt::format_source(&doc.text).ok()?;
        if formatted == doc.text {
            return Some(Vec::new());
        }
        Some(vec![TextEdit {
            range: doc.lines.range(&doc.text, 0, doc.text.len()),
            new_text: formatted,
        }])
    }

    /// The document (see `ensure_analysed`) and the byte offset of `pos` in it.
    fn doc_at(&self, uri: &Uri, pos: Position) -> Option<(&Document, u32)> {
        let doc = self.docs.get(uri)?;
        doc.analysis.as_ref()?;
        let offset = doc.lines.offset(&doc.text, pos) as u32;
        Some((doc, offset))
    }

    fn location(
        &self,
        a: &Analysis,
        uri: &Uri,
        doc: &Document,
        span: crate::syntax::Span,
    ) -> Option<Location> {
        if span.file == a.file {
            return Some(Location::new(
                uri.clone(),
                doc.lines
                    .range(&doc.text, span.start as usize, span.end as usize),
            ));
        }
        span_location(a, span, &self.host)
    }

    fn definition(&mut self, uri: &Uri, pos: Position) -> Option<Vec<Location>> {
        self.ensure_analysed(uri);
        let (doc, offset) = self.doc_at(uri, pos)?;
        let a = doc.analysis.as_ref()?;
        // `(import "path")`: the imported file.
        if let Some(path) = import_path_at(a, offset, &doc.path) {
            let target = path_to_uri(&path)?;
            return Some(vec![Location::new(target, Range::default())]);
        }
        let spans = match target_at(a, offset) {
            Some(Target::Local(l)) => vec![a.program.locals[l.0 as usize].span],
            Some(Target::Global(name)) => {
                let spans = defs_of_global(a, &name);
                if spans.is_empty() {
                    defs_by_name(a, offset)
                        .into_iter()
                        .map(|d| d.name_span)
                        .collect()
                } else {
                    spans
                }
            }
            Some(Target::Prim(_)) => Vec::new(),
            None => defs_by_name(a, offset)
                .into_iter()
                .map(|d| d.name_span)
                .collect(),
        };
        Some(
            spans
                .into_iter()
                .filter_map(|s| self.location(a, uri, doc, s))
                .collect(),
        )
    }

    /// Every occurrence of the name at `pos`; its definitions and bindings
    /// only when `declarations`.
    fn references(
        &mut self,
        uri: &Uri,
        pos: Position,
        declarations: bool,
    ) -> Option<Vec<Location>> {
        self.ensure_analysed(uri);
        let (doc, offset) = self.doc_at(uri, pos)?;
        let a = doc.analysis.as_ref()?;
        let mut spans: Vec<crate::syntax::Span> = match target_at(a, offset) {
            Some(t @ (Target::Local(_) | Target::Global(_) | Target::Prim(_))) => {
                let mut spans: Vec<_> = a
                    .refs()
                    .iter()
                    .filter(|r| r.target == t)
                    .map(|r| r.span)
                    .collect();
                if let Target::Global(name) = &t {
                    // The name written where expansion leaves no trace of
                    // it: a struct's name in annotations, uses in forms
                    // that did not expand or inside macro uses (but not
                    // where it names something else, like a local).
                    let mut written = Vec::new();
                    symbols_named(&a.forms, name, &mut written);
                    spans.extend(
                        written
                            .into_iter()
                            .filter(|s| a.refs().iter().all(|r| r.span != *s || r.target == t)),
                    );
                }
                spans
            }
            None => {
                let (name, _, _) = symbol_at(&a.forms, offset)?;
                let mut spans = Vec::new();
                symbols_named(&a.forms, &name, &mut spans);
                spans.extend(
                    defs_by_name(a, offset)
                        .into_iter()
                        .filter(|d| d.name_span.file == a.file)
                        .map(|d| d.name_span),
                );
                spans
            }
        };
        if !declarations {
            let bound: Vec<crate::syntax::Span> = a
                .program
                .locals
                .iter()
                .map(|l| l.span)
                .chain(a.defs().iter().map(|d| d.name_span))
                .collect();
            spans.retain(|s| !bound.contains(s));
        }
        spans.sort_by_key(|s| (s.file, s.start));
        spans.dedup();
        Some(
            spans
                .into_iter()
                .filter_map(|s| self.location(a, uri, doc, s))
                .collect(),
        )
    }

    fn hover(&mut self, uri: &Uri, pos: Position) -> Option<Hover> {
        self.ensure_analysed(uri);
        let (doc, offset) = self.doc_at(uri, pos)?;
        let a = doc.analysis.as_ref()?;
        let mut parts: Vec<String> = Vec::new();
        let sym = symbol_at(&a.forms, offset);
        match target_at(a, offset) {
            Some(Target::Local(l)) => {
                let info = &a.program.locals[l.0 as usize];
                let (line, _) = a.sources.line_col(info.span);
                let ty = annotation_of(&a.forms, info.span)
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default();
                parts.push(format!(
                    "```omnilisp\n{}{ty}\n```\nlocal variable, bound on line {line}",
                    info.name
                ));
            }
            Some(Target::Global(name)) => {
                let defs: Vec<&Definition> = a.defs().iter().filter(|d| d.key == name).collect();
                parts.extend(describe_defs(&name, &defs));
                if defs.is_empty() {
                    parts.push(format!("```omnilisp\n{name}\n```\nglobal"));
                }
            }
            Some(Target::Prim(p)) => parts.push(describe_prim(&p)),
            None => {
                let defs = defs_by_name(a, offset);
                if let Some((name, _, _)) = &sym {
                    parts.extend(describe_defs(name, &defs));
                }
            }
        }
        // An allocation whose head (its bracket or operator) is under the
        // cursor: where CTRR placed it and why.
        let site = a
            .sites()
            .iter()
            .filter(|s| s.span.start <= offset && offset <= head_end(&doc.text, s.span))
            .min_by_key(|s| s.span.end - s.span.start);
        if let Some(site) = site {
            let mut same: Vec<&str> = Vec::new();
            for s in a.sites().iter().filter(|s| s.span == site.span) {
                if !same.contains(&s.text.as_str()) && same.len() < MAX_SITES_SHOWN {
                    same.push(&s.text);
                }
            }
            parts.push(format!("**allocation** (CTRR):\n\n- {}", same.join("\n- ")));
        }
        if parts.is_empty() {
            return None;
        }
        let range =
            sym.map(|(_, s, _)| doc.lines.range(&doc.text, s.start as usize, s.end as usize));
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: parts.join("\n\n---\n\n"),
            }),
            range,
        })
    }

    fn completion(&mut self, uri: &Uri, pos: Position) -> Option<Vec<CompletionItem>> {
        self.ensure_analysed(uri);
        let (doc, offset) = self.doc_at(uri, pos)?;
        let a = doc.analysis.as_ref()?;
        let before = &doc.text[..offset as usize];
        let prefix_start = before
            .rfind(|c: char| c.is_whitespace() || "()[]{}\"';`,".contains(c))
            .map_or(0, |i| {
                i + before[i..].chars().next().map_or(1, char::len_utf8)
            });
        let prefix = &before[prefix_start..];
        let mut items: Vec<CompletionItem> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut add = |label: String, kind: CompletionItemKind, detail: String| {
            if label.starts_with(prefix) && seen.insert(label.clone()) {
                items.push(CompletionItem {
                    label,
                    kind: Some(kind),
                    detail: Some(detail),
                    ..Default::default()
                });
            }
        };
        // Locals bound before the cursor in the top-level form around it.
        if let Some(form) = a
            .forms
            .iter()
            .find(|f| f.span.start <= offset && offset <= f.span.end)
        {
            for l in &a.program.locals {
                if l.span.file == a.file
                    && form.span.start <= l.span.start
                    && l.span.end <= offset
                    && !l.name.contains(['%', '#'])
                {
                    add(l.name.clone(), CompletionItemKind::VARIABLE, "local".into());
                }
            }
        }
        for d in a.defs() {
            let kind = match d.kind {
                DefKind::Function => CompletionItemKind::FUNCTION,
                DefKind::Value => CompletionItemKind::VARIABLE,
                DefKind::Struct | DefKind::Type => CompletionItemKind::STRUCT,
                DefKind::Effect => CompletionItemKind::EVENT,
                DefKind::Macro => CompletionItemKind::KEYWORD,
                DefKind::Module => CompletionItemKind::MODULE,
                DefKind::Field => continue,
            };
            // The prelude's internals, and a module's private names
            // outside the module's file.
            if d.name.starts_with('%') || (d.private && d.name_span.file != a.file) {
                continue;
            }
            let label = match &d.container {
                // A module's name: `alias/name` when imported `:as alias`.
                Some(m) if d.kind != DefKind::Module => {
                    match a.aliases().iter().find(|(_, module)| module == m) {
                        Some((alias, _)) => format!("{alias}/{}", d.name),
                        None => d.name.clone(),
                    }
                }
                _ => d.name.clone(),
            };
            add(
                label,
                kind,
                d.signature.lines().next().unwrap_or("").to_string(),
            );
        }
        for g in &a.program.globals {
            if !g.name.contains(['%', '#', '/']) {
                add(
                    g.name.clone(),
                    CompletionItemKind::VARIABLE,
                    "global".into(),
                );
            }
        }
        for p in omni_runtime::prims::PRIMS.iter() {
            if !p.name.starts_with('%') {
                add(
                    p.name.to_string(),
                    CompletionItemKind::FUNCTION,
                    describe_arity(p.arity),
                );
            }
        }
        // The expander's special forms, and `export` (a part of `module`).
        for s in crate::expand::SPECIAL_FORMS.iter().chain(&["export"]) {
            add(
                s.to_string(),
                CompletionItemKind::KEYWORD,
                "special form".into(),
            );
        }
        items.sort_by(|x, y| x.label.cmp(&y.label));
        Some(items)
    }

    #[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given
    fn symbols(&mut self, uri: &Uri) -> Option<Vec<DocumentSymbol>> {
        self.ensure_analysed(uri);
        let doc = self.docs.get(uri)?;
        let a = doc.analysis.as_ref()?;
        let mine: Vec<&Definition> = a
            .defs()
            .iter()
            .filter(|d| d.name_span.file == a.file)
            .collect();
        let symbol = |d: &Definition, children: Option<Vec<DocumentSymbol>>| DocumentSymbol {
            name: d.name.clone(),
            detail: Some(d.signature.lines().next().unwrap_or("").to_string()),
            kind: match d.kind {
                DefKind::Function => SymbolKind::FUNCTION,
                DefKind::Value => SymbolKind::VARIABLE,
                DefKind::Struct | DefKind::Type => SymbolKind::STRUCT,
                DefKind::Effect => SymbolKind::EVENT,
                DefKind::Macro => SymbolKind::OPERATOR,
                DefKind::Module => SymbolKind::MODULE,
                DefKind::Field => SymbolKind::FIELD,
            },
            tags: None,
            deprecated: None,
            range: doc.lines.range(
                &doc.text,
                d.form_span.start as usize,
                d.form_span.end as usize,
            ),
            selection_range: doc.lines.range(
                &doc.text,
                d.name_span.start as usize,
                d.name_span.end as usize,
            ),
            children,
        };
        let fields_of = |s: &Definition| -> Vec<DocumentSymbol> {
            mine.iter()
                .filter(|f| {
                    f.kind == DefKind::Field
                        && f.container.as_deref() == Some(&s.name)
                        && f.form_span == s.form_span
                })
                .map(|f| symbol(f, None))
                .collect()
        };
        let with_fields = |d: &Definition| {
            let fields = fields_of(d);
            symbol(d, (!fields.is_empty()).then_some(fields))
        };
        let mut out = Vec::new();
        for d in &mine {
            match d.kind {
                DefKind::Field => {}
                DefKind::Module => {
                    let members = mine
                        .iter()
                        .filter(|m| {
                            m.kind != DefKind::Field
                                && m.kind != DefKind::Module
                                && m.container.as_deref() == Some(&d.name)
                        })
                        .map(|m| with_fields(m))
                        .collect();
                    out.push(symbol(d, Some(members)));
                }
                _ if d.container.is_none() => out.push(with_fields(d)),
                _ => {}
            }
        }
        Some(out)
    }
}

/// The `{Type}` written right after the binding at `span` (`[x {Int}]`).
fn annotation_of(forms: &[crate::syntax::Datum], span: crate::syntax::Span) -> Option<String> {
    use crate::syntax::DatumKind;
    for d in forms {
        if d.span.start > span.start || d.span.end < span.end {
            continue;
        }
        let (DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs)) =
            &d.kind
        else {
            continue;
        };
        if let Some(i) = xs.iter().position(|x| x.span == span) {
            return match (&d.kind, xs.get(i + 1)) {
                (DatumKind::Slot(_), Some(t)) if matches!(t.kind, DatumKind::Kind(_)) => {
                    Some(t.to_string())
                }
                _ => None,
            };
        }
        return annotation_of(xs, span);
    }
    None
}

/// The message of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// The end of the head of the form at `span`: its bracket and the first
/// token after it (`(cons`, `(fn`, `[`).
fn head_end(text: &str, span: crate::syntax::Span) -> u32 {
    let (start, end) = (span.start as usize, (span.end as usize).min(text.len()));
    let Some(body) = text.get(start..end) else {
        return span.start;
    };
    if !body.starts_with('(') {
        return span.start + 1;
    }
    let head = body[1..]
        .find(|c: char| c.is_whitespace() || "()[]{}".contains(c))
        .map_or(body.len(), |i| i + 1);
    span.start + head as u32
}

/// What the name at `offset` resolved to, if the expanded program knows.
fn target_at(a: &Analysis, offset: u32) -> Option<Target> {
    a.refs()
        .iter()
        .filter(|r| r.span.start <= offset && offset <= r.span.end)
        .min_by_key(|r| r.span.end - r.span.start)
        .map(|r| r.target.clone())
}

/// The definitions of the global `name` (every method of a generic
/// function), in any file of the compilation.
fn defs_of_global(a: &Analysis, name: &str) -> Vec<crate::syntax::Span> {
    a.defs()
        .iter()
        .filter(|d| d.key == name && d.kind != DefKind::Field)
        .map(|d| d.name_span)
        .collect()
}

/// The definitions whose name is the symbol at `offset` (a struct in an
/// annotation, a macro, a field after `.`, a module, `alias/name`).
fn defs_by_name(a: &Analysis, offset: u32) -> Vec<&Definition> {
    let Some((name, _, is_field)) = symbol_at(&a.forms, offset) else {
        return Vec::new();
    };
    if is_field {
        return a
            .defs()
            .iter()
            .filter(|d| d.kind == DefKind::Field && d.name == name)
            .collect();
    }
    let key = match name.split_once('/') {
        Some((alias, rest)) => match a.aliases().iter().find(|(al, _)| al == alias) {
            Some((_, module)) => format!("{module}/{rest}"),
            None => name.clone(),
        },
        None => name.clone(),
    };
    a.defs()
        .iter()
        .filter(|d| d.kind != DefKind::Field && (d.key == key || d.name == name))
        .collect()
}

/// The path of `(import "path" ...)` when `offset` is on its string.
fn import_path_at(a: &Analysis, offset: u32, doc_path: &std::path::Path) -> Option<PathBuf> {
    use crate::syntax::DatumKind;
    for d in &a.forms {
        let DatumKind::List(items) = &d.kind else {
            continue;
        };
        if items.first().and_then(|x| x.as_sym()) != Some("import") {
            continue;
        }
        let s = items.get(1)?;
        if let DatumKind::Str(rel) = &s.kind {
            if s.span.start <= offset && offset <= s.span.end {
                // The file the import loaded (same file name), else the
                // path beside the document.
                let loaded = (0..)
                    .take_while(|f| a.sources.contains(*f))
                    .map(|f| a.sources.name(f))
                    .find(|n| n.ends_with(rel.as_str()) && *n != a.sources.name(a.file));
                return Some(match loaded {
                    Some(n) => PathBuf::from(n),
                    None => doc_path
                        .parent()
                        .unwrap_or(std::path::Path::new(""))
                        .join(rel),
                });
            }
        }
    }
    None
}

fn describe_defs(name: &str, defs: &[&Definition]) -> Vec<String> {
    let mut parts = Vec::new();
    let methods = defs.iter().filter(|d| d.kind == DefKind::Function).count();
    if methods > 1 {
        parts.push(format!("generic function `{name}`: {methods} methods"));
    }
    for d in defs {
        let mut text = format!("```omnilisp\n{}\n```", d.signature);
        if let Some(doc) = &d.doc {
            text.push_str(&format!("\n{doc}"));
        }
        if let Some(m) = d.container.as_ref().filter(|_| d.kind != DefKind::Field) {
            text.push_str(&format!("\n\nin module `{m}`"));
        }
        parts.push(text);
    }
    parts
}

fn describe_arity(arity: omni_runtime::prims::PrimArity) -> String {
    use omni_runtime::prims::PrimArity;
    match arity {
        PrimArity::Fixed(1) => "primitive, 1 argument".into(),
        PrimArity::Fixed(n) => format!("primitive, {n} arguments"),
        PrimArity::Variadic { min } => format!("primitive, {min} or more arguments"),
    }
}

fn describe_prim(name: &str) -> String {
    let arity = omni_runtime::prims::lookup(name)
        .map(|p| describe_arity(p.arity))
        .unwrap_or_else(|| "primitive".into());
    format!("```omnilisp\n{name}\n```\nbuilt-in {arity}")
}

/// The URI and range of a span in a file other than the document.
fn span_location(a: &Analysis, span: crate::syntax::Span, host: &Host) -> Option<Location> {
    if !a.sources.contains(span.file) {
        return None;
    }
    let path = if span.file == a.prelude_file {
        host.prelude_path.clone()?
    } else {
        PathBuf::from(a.sources.name(span.file))
    };
    let text = a.sources.source(span.file);
    let lines = LineIndex::new(text);
    Some(Location::new(
        path_to_uri(&path)?,
        lines.range(text, span.start as usize, span.end as usize),
    ))
}

/// The `(import "rel" ...)` form of the document whose path the file
/// `name` ends with.
fn import_form_of(a: &Analysis, name: &str) -> Option<crate::syntax::Span> {
    use crate::syntax::DatumKind;
    a.forms.iter().find_map(|d| {
        let DatumKind::List(items) = &d.kind else {
            return None;
        };
        if items.first().and_then(|x| x.as_sym()) != Some("import") {
            return None;
        }
        match &items.get(1)?.kind {
            DatumKind::Str(rel) if name.ends_with(rel.trim_start_matches("./")) => Some(d.span),
            _ => None,
        }
    })
}

fn to_lsp_diagnostic(
    a: &Analysis,
    d: &crate::diag::Diagnostic,
    uri: &Uri,
    host: &Host,
    lines: &LineIndex,
) -> lsp_types::Diagnostic {
    let text = a.sources.source(a.file);
    let mut message = d.message.clone();
    let range = if d.span.file == a.file {
        lines.range(text, d.span.start as usize, d.span.end as usize)
    } else {
        // An error in an imported file: shown on the import that loads
        // it (else at the top), naming the place.
        let (line, col) = a.sources.line_col(d.span);
        let name = a.sources.name(d.span.file);
        message = format!("{name}:{line}:{col}: {message}");
        match import_form_of(a, name) {
            Some(s) => lines.range(text, s.start as usize, s.end as usize),
            None => Range::default(),
        }
    };
    if !d.label.is_empty() {
        message.push_str(&format!("\n{}", d.label));
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|(span, label)| {
            let location = if span.file == a.file {
                Location::new(
                    uri.clone(),
                    lines.range(text, span.start as usize, span.end as usize),
                )
            } else {
                span_location(a, *span, host)?
            };
            Some(DiagnosticRelatedInformation {
                location,
                message: label.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("omnic".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}
