//! One analysis of a document: the front end run on its text (read with
//! recovery, expand with recovery, and — when the file is free of errors —
//! lowering and CTRR, never code generation), and the index the requests
//! answer from: every diagnostic, every resolved name occurrence, every
//! definition (of the document, its imports and the prelude), and the
//! region CTRR gave each allocation site with its reason.

use crate::diag::Diagnostic;
use crate::expand::ast::{Expr, ExprKind, LocalId, Program};
use crate::expand::shape::{self, DefKind as TypeKind, TopForm};
use crate::expand::{self, ImportedFile};
use crate::syntax::{self, Datum, DatumKind, FileId, PathSeg, SourceMap, Span};
use crate::{ctrr, ir};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How `(import "path")` is resolved and read: the driver's import cache
/// (search path, one file id per file), given to the server by the driver.
pub trait ImportLoad {
    fn load(
        &mut self,
        sources: &mut SourceMap,
        rel: &str,
        at: Span,
    ) -> expand::Result<ImportedFile>;
}

/// What the server needs from the driver: the prelude and the import
/// loader.
pub struct Host {
    pub prelude_name: &'static str,
    pub prelude_text: &'static str,
    /// The prelude as a file on disk, if there is one (definitions in it
    /// are shown there).
    pub prelude_path: Option<PathBuf>,
    pub new_imports: fn(&Path, FileId) -> Box<dyn ImportLoad>,
}

/// What a name occurrence means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local(LocalId),
    /// A global, by its name in the expanded program (`geometry/area` for
    /// a module's `area`).
    Global(String),
    Prim(String),
}

/// A name written in the document (a use or a binding) and its meaning.
#[derive(Debug, Clone)]
pub struct NameRef {
    pub span: Span,
    pub target: Target,
}

/// What kind of thing a definition defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    Function,
    Value,
    Struct,
    Type,
    Effect,
    Macro,
    Module,
    Field,
}

/// A definition found in the source: a top-level `define` (also inside a
/// `module`), a field of a struct, a macro, a module.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The name as written.
    pub name: String,
    /// The global it defines: `module/name` inside a module, else the name.
    pub key: String,
    pub kind: DefKind,
    pub name_span: Span,
    pub form_span: Span,
    /// The definition's head as source: `(define f [x {Int}] {Int})`.
    pub signature: String,
    /// A function's docstring: a string first in a body of several forms.
    pub doc: Option<String>,
    /// A field's struct, a module member's module.
    pub container: Option<String>,
    /// A module member its module does not export.
    pub private: bool,
}

/// An allocation site of the document and what CTRR decided for it.
#[derive(Debug, Clone)]
pub struct SiteNote {
    pub span: Span,
    /// `Cons in `f` -> local(v3): does not outlive the call: ...`
    pub text: String,
}

pub struct Analysis {
    pub sources: SourceMap,
    /// The document's file.
    pub file: FileId,
    pub prelude_file: FileId,
    pub diagnostics: Vec<Diagnostic>,
    /// The document's top-level forms that read.
    pub forms: Vec<Datum>,
    /// The expanded program (the forms that expanded).
    pub program: Program,
    /// The prelude's forms (shared by every analysis).
    prelude: Rc<Vec<Datum>>,
    /// The forms of every imported file.
    imported: Vec<Vec<Datum>>,
    /// Names and definitions, computed on first use (a keystroke's
    /// diagnostics do not wait for them).
    index: std::cell::OnceCell<Index>,
    /// Allocation sites of the document, computed on first use (lowering
    /// and CTRR take most of an analysis, and only hover needs them; a
    /// keystroke's diagnostics do not wait for them). Empty when the
    /// document has errors.
    sites: std::cell::OnceCell<Vec<SiteNote>>,
}

/// What requests look names up in.
struct Index {
    /// Name occurrences in the document, by start offset.
    refs: Vec<NameRef>,
    /// Definitions of every file of the compilation.
    defs: Vec<Definition>,
    /// `(import "path" :as alias)` of the document: (alias, module name).
    aliases: Vec<(String, String)>,
}

/// Read the prelude once: every analysis starts from these forms (file 0).
pub fn read_prelude(host: &Host) -> Rc<Vec<Datum>> {
    Rc::new(syntax::read_program(host.prelude_text, 0).unwrap_or_default())
}

/// Run the front end on `text`, the contents of the document at `path`.
pub fn analyse(host: &Host, prelude: &Rc<Vec<Datum>>, path: &Path, text: &str) -> Analysis {
    let mut clock = Phases::start();
    let mut sources = SourceMap::default();
    let prelude_file = sources.add(host.prelude_name, host.prelude_text);
    let file = sources.add(path.display().to_string(), text);
    let (forms, syntax_errors) = syntax::read_program_recovering(text, file);
    let had_syntax_errors = !syntax_errors.is_empty();
    let mut diagnostics: Vec<Diagnostic> =
        syntax_errors.into_iter().map(Diagnostic::from).collect();

    clock.lap("read");
    let mut loader = (host.new_imports)(path, file);
    let mut imported: Vec<(FileId, Vec<Datum>)> = Vec::new();
    let (program, errors) =
        expand::expand_program_partial(prelude.as_ref().clone(), forms.clone(), &mut |rel, at| {
            let f = loader.load(&mut sources, rel, at)?;
            if !imported.iter().any(|(id, _)| *id == f.file) {
                imported.push((f.file, f.forms.clone()));
            }
            Ok(f)
        });
    // A name defined in a form that does not read is unbound in the rest:
    // while the file has syntax errors, those consequences are not shown.
    diagnostics.extend(
        errors
            .into_iter()
            .filter(|e| !(had_syntax_errors && e.message.starts_with("unbound name")))
            .map(Diagnostic::from),
    );
    diagnostics.sort_by_key(|d| (d.span.file != file, d.span.file, d.span.start));

    clock.lap("expand");
    let imported = imported.into_iter().map(|(_, fs)| fs).collect();
    Analysis {
        sources,
        file,
        prelude_file,
        diagnostics,
        forms,
        program,
        prelude: prelude.clone(),
        imported,
        index: std::cell::OnceCell::new(),
        sites: std::cell::OnceCell::new(),
    }
}

impl Analysis {
    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut clock = Phases::start();
            let mut defs = Vec::new();
            collect_definitions(&self.forms, None, &mut defs);
            for fs in std::iter::once(self.prelude.as_ref()).chain(&self.imported) {
                collect_definitions(fs, None, &mut defs);
            }
            let text = self.sources.source(self.file);
            let refs = collect_refs(&self.program, &defs, self.file, text);
            let aliases = import_aliases(&self.forms, &self.imported);
            clock.lap("index");
            Index {
                refs,
                defs,
                aliases,
            }
        })
    }

    /// Name occurrences in the document (uses and bindings), by offset.
    pub fn refs(&self) -> &[NameRef] {
        &self.index().refs
    }

    /// Definitions of every file of the compilation.
    pub fn defs(&self) -> &[Definition] {
        &self.index().defs
    }

    /// `(import "path" :as alias)` of the document: (alias, module name).
    pub fn aliases(&self) -> &[(String, String)] {
        &self.index().aliases
    }

    /// The allocation sites of the document and CTRR's decisions (see
    /// `sites`).
    pub fn sites(&self) -> &[SiteNote] {
        self.sites.get_or_init(|| {
            if !self.diagnostics.is_empty() {
                return Vec::new();
            }
            let mut clock = Phases::start();
            let sites = allocation_sites(&self.program, &self.sources, self.file);
            clock.lap("lower+ctrr");
            sites
        })
    }
}

/// Phase times of an analysis, printed to stderr when `OMNI_LSP_TRACE`
/// is set (for `benches/lsp-latency`).
struct Phases {
    on: bool,
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Phases {
    fn start() -> Phases {
        Phases {
            on: std::env::var_os("OMNI_LSP_TRACE").is_some(),
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
    fn lap(&mut self, what: &'static str) {
        if self.on {
            let now = std::time::Instant::now();
            self.laps
                .push((what, (now - self.last).as_secs_f64() * 1000.0));
            self.last = now;
        }
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        if self.on {
            let laps: Vec<String> = self
                .laps
                .iter()
                .map(|(w, ms)| format!("{w} {ms:.1} ms"))
                .collect();
            eprintln!("omnic lsp: analysis: {}", laps.join(", "));
        }
    }
}

/// Lower and run CTRR (with inlining, as `--dump-ctrr` does), and word the
/// decision for each allocation site of `file`.
fn allocation_sites(ast: &Program, sources: &SourceMap, file: FileId) -> Vec<SiteNote> {
    let mut prog = ir::lower::lower_program(ast, sources);
    ir::inline::inline_program(&mut prog);
    let report = ctrr::run(&mut prog);
    let mut notes: Vec<SiteNote> = prog
        .alloc_sites
        .iter()
        .zip(&report.sites)
        .filter(|(s, _)| s.span.file == file)
        .map(|(s, why)| {
            let func = &prog.functions[s.func.0 as usize].name;
            SiteNote {
                span: s.span,
                text: format!(
                    "{:?} in `{func}` -> region {}: {}",
                    s.kind,
                    ir::print::region_name(s.region),
                    ctrr::place_text(&prog, why)
                ),
            }
        })
        .collect();
    notes.sort_by_key(|n| (n.span.start, n.span.end));
    notes
}

/// Every definition among `forms` (recursing into `module` forms).
pub fn collect_definitions(forms: &[Datum], module: Option<&str>, out: &mut Vec<Definition>) {
    // A module's `(export a b ...)`.
    let exports: Vec<&str> = forms
        .iter()
        .filter_map(|d| match &d.kind {
            DatumKind::List(xs) if xs.first().and_then(Datum::as_sym) == Some("export") => {
                Some(xs[1..].iter().filter_map(Datum::as_sym))
            }
            _ => None,
        })
        .flatten()
        .collect();
    let private = |name: &str| module.is_some() && !exports.contains(&name);
    for d in forms {
        let DatumKind::List(items) = &d.kind else {
            continue;
        };
        let head = items.first().and_then(Datum::as_sym);
        if head == Some("module") {
            if let Some(name) = items.get(1) {
                if let Some(n) = name.as_sym() {
                    out.push(Definition {
                        name: n.to_string(),
                        key: n.to_string(),
                        kind: DefKind::Module,
                        name_span: name.span,
                        form_span: d.span,
                        signature: format!("(module {n})"),
                        doc: None,
                        container: None,
                        private: false,
                    });
                    collect_definitions(&items[2..], Some(n), out);
                }
            }
            continue;
        }
        if head != Some("define") {
            continue;
        }
        let key = |name: &str| match module {
            Some(m) => format!("{m}/{name}"),
            None => name.to_string(),
        };
        let def = |name: &str, kind, name_span, signature, doc| Definition {
            name: name.to_string(),
            key: key(name),
            kind,
            name_span,
            form_span: d.span,
            signature,
            doc,
            container: module.map(str::to_string),
            private: private(name),
        };
        // `(define [syntax name] rules...)`
        if let Some(DatumKind::Slot(xs)) = items.get(1).map(|x| &x.kind) {
            if let [kw, name] = xs.as_slice() {
                if let (Some("syntax"), Some(n)) = (kw.as_sym(), name.as_sym()) {
                    let patterns: Vec<String> = items[2..]
                        .iter()
                        .filter_map(|rule| match &rule.kind {
                            DatumKind::Slot(r) => r.first().map(|p| p.to_string()),
                            _ => None,
                        })
                        .collect();
                    let sig = format!("(define [syntax {n}])\n{}", patterns.join("\n"));
                    out.push(def(n, DefKind::Macro, name.span, sig, None));
                }
            }
            continue;
        }
        match shape::recognise(d) {
            Ok(TopForm::Function {
                name,
                name_span,
                shape,
                ..
            }) => {
                let mut sig = format!("(define {name}");
                for p in shape.params.iter().chain(shape.ret) {
                    sig.push(' ');
                    sig.push_str(&p.to_string());
                }
                sig.push(')');
                let doc = match shape.body {
                    [first, _, ..] => match &first.kind {
                        DatumKind::Str(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                out.push(def(name, DefKind::Function, name_span, sig, doc));
            }
            Ok(TopForm::Define { name, name_span }) => {
                let sig = match items.get(2) {
                    Some(
                        t @ Datum {
                            kind: DatumKind::Kind(_),
                            ..
                        },
                    ) if items.len() > 3 => format!("(define {name} {t})"),
                    _ => format!("(define {name})"),
                };
                out.push(def(name, DefKind::Value, name_span, sig, None));
            }
            Ok(TopForm::TypeDef(t)) => {
                let (kind, word) = match t.kind {
                    TypeKind::Struct => (DefKind::Struct, "struct"),
                    TypeKind::MutableStruct => (DefKind::Struct, "mutable-struct"),
                    TypeKind::Abstract => (DefKind::Type, "abstract"),
                    TypeKind::Effect => (DefKind::Effect, "effect"),
                };
                let mut sig = String::from("(define ");
                if let Some(p) = t.parent {
                    sig.push_str(&format!("^:parent {p} "));
                }
                sig.push_str(&format!("{{{word} {}}}", t.name));
                let field_names: Vec<Datum> =
                    items.iter().skip(1).flat_map(field_name_datums).collect();
                for (f, ty, _) in &t.fields {
                    match ty {
                        Some(ty) => sig.push_str(&format!(" [{f} {ty}]")),
                        None => sig.push_str(&format!(" [{f}]")),
                    }
                }
                sig.push(')');
                out.push(def(t.name, kind, t.name_span, sig, None));
                for (f, ty, _) in &t.fields {
                    let Some(at) = field_names.iter().find(|x| x.as_sym() == Some(f)) else {
                        continue;
                    };
                    let ty = ty.map(|t| format!(" {t}")).unwrap_or_default();
                    out.push(Definition {
                        name: f.to_string(),
                        key: format!("{}.{f}", t.name),
                        kind: DefKind::Field,
                        name_span: at.span,
                        form_span: d.span,
                        signature: format!("field `{f}`{ty} of struct `{}`", t.name),
                        doc: None,
                        container: Some(t.name.to_string()),
                        private: private(t.name),
                    });
                }
            }
            Ok(TopForm::Expr) | Err(_) => {}
        }
    }
}

/// The names in a field `[x {Int} y]` or `y` (its symbols).
fn field_name_datums(d: &Datum) -> Vec<Datum> {
    match &d.kind {
        DatumKind::Slot(xs) => xs
            .iter()
            .filter(|x| x.as_sym().is_some())
            .cloned()
            .collect(),
        DatumKind::Sym(_) => vec![d.clone()],
        _ => Vec::new(),
    }
}

/// Does `span` of `text` hold one symbol (so it is a name the user wrote,
/// not a form a macro or a desugaring stands for)?
fn is_symbol_text(text: &str, span: Span) -> bool {
    let Some(s) = text.get(span.start as usize..span.end as usize) else {
        return false;
    };
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || "()[]{}\"';`,".contains(c))
}

/// Every name of the document the expanded program resolved, and every
/// binding: locals where they are bound, globals where they are defined.
fn collect_refs(prog: &Program, defs: &[Definition], file: FileId, text: &str) -> Vec<NameRef> {
    let mut out = Vec::new();
    for e in &prog.body {
        walk(prog, e, &mut out);
    }
    for (i, l) in prog.locals.iter().enumerate() {
        if !l.name.contains(['%', '#']) {
            out.push(NameRef {
                span: l.span,
                target: Target::Local(LocalId(i as u32)),
            });
        }
    }
    for d in defs {
        if matches!(d.kind, DefKind::Function | DefKind::Value | DefKind::Struct) {
            out.push(NameRef {
                span: d.name_span,
                target: Target::Global(d.key.clone()),
            });
        }
    }
    out.retain(|r| {
        r.span.file == file
            && is_symbol_text(text, r.span)
            && match &r.target {
                Target::Prim(p) => text.get(r.span.start as usize..r.span.end as usize) == Some(p),
                _ => true,
            }
    });
    out.sort_by_key(|r| (r.span.start, r.span.end));
    out.dedup_by(|a, b| a.span == b.span);
    out
}

fn walk(prog: &Program, e: &Expr, out: &mut Vec<NameRef>) {
    let push = |out: &mut Vec<NameRef>, span, target| out.push(NameRef { span, target });
    match &e.kind {
        ExprKind::Local(l) => push(out, e.span, Target::Local(*l)),
        ExprKind::Global(g) => push(
            out,
            e.span,
            Target::Global(prog.globals[g.0 as usize].name.clone()),
        ),
        ExprKind::PrimRef(p) => push(out, e.span, Target::Prim(p.clone())),
        ExprKind::PrimCall(p, args) => {
            // The primitive's name is the call's head: `(cons ...` (its
            // text is checked in `collect_refs`: desugarings make calls
            // of primitives the source does not spell).
            let start = e.span.start + 1;
            push(
                out,
                Span {
                    start,
                    end: start + p.len() as u32,
                    ..e.span
                },
                Target::Prim(p.clone()),
            );
            args.iter().for_each(|a| walk(prog, a, out));
        }
        ExprKind::Lambda(lam) => walk(prog, &lam.body, out),
        ExprKind::Call(f, args) => {
            walk(prog, f, out);
            args.iter().for_each(|a| walk(prog, a, out));
        }
        ExprKind::If(c, t, f) => {
            walk(prog, c, out);
            walk(prog, t, out);
            walk(prog, f, out);
        }
        ExprKind::Let(bs, body) | ExprKind::Letrec(bs, body) => {
            bs.iter().for_each(|(_, init)| walk(prog, init, out));
            walk(prog, body, out);
        }
        ExprKind::Seq(xs) | ExprKind::MakeArray(xs) | ExprKind::MakeDict(xs) => {
            xs.iter().for_each(|x| walk(prog, x, out))
        }
        ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => {
            walk(prog, v, out)
        }
        ExprKind::Lit(_) | ExprKind::Quote(_) => {}
    }
}

/// `(import "path" :as alias)` of the document: the alias and the name of
/// the module the imported file defines.
fn import_aliases(forms: &[Datum], imported: &[Vec<Datum>]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for d in forms {
        let DatumKind::List(items) = &d.kind else {
            continue;
        };
        if items.first().and_then(Datum::as_sym) != Some("import") {
            continue;
        }
        let alias = items
            .windows(2)
            .find(|w| matches!(&w[0].kind, DatumKind::List(q) if q.len() == 2 && q[1].as_sym() == Some("as")))
            .and_then(|w| w[1].as_sym());
        let (Some(alias), Some(DatumKind::Str(path))) = (alias, items.get(1).map(|x| &x.kind))
        else {
            continue;
        };
        // The imported file whose forms start with `(module NAME ...)`:
        // imports load in order, so match by the path's file name.
        let stem = Path::new(path).file_stem().and_then(|s| s.to_str());
        for fs in imported {
            for f in fs {
                if let DatumKind::List(xs) = &f.kind {
                    if xs.first().and_then(Datum::as_sym) == Some("module") {
                        if let Some(m) = xs.get(1).and_then(Datum::as_sym) {
                            if stem == Some(m) || imported.len() == 1 {
                                out.push((alias.to_string(), m.to_string()));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// The innermost symbol datum of `forms` at byte `offset`: the symbol (or
/// path field) and its span.
pub fn symbol_at(forms: &[Datum], offset: u32) -> Option<(String, Span, bool)> {
    fn find(d: &Datum, offset: u32) -> Option<(String, Span, bool)> {
        if offset < d.span.start || offset > d.span.end {
            return None;
        }
        match &d.kind {
            DatumKind::Sym(s) => Some((s.clone(), d.span, false)),
            DatumKind::List(xs)
            | DatumKind::Slot(xs)
            | DatumKind::Kind(xs)
            | DatumKind::Dict(xs) => xs.iter().find_map(|x| find(x, offset)),
            DatumKind::Path(base, segs) => find(base, offset).or_else(|| {
                segs.iter().find_map(|s| match s {
                    PathSeg::Field(n, sp) if sp.start <= offset && offset <= sp.end => {
                        Some((n.clone(), *sp, true))
                    }
                    PathSeg::Index(i) => find(i, offset),
                    _ => None,
                })
            }),
            _ => None,
        }
    }
    forms.iter().find_map(|d| find(d, offset))
}

/// Every symbol datum of `forms` spelled `name` (macro uses, type names in
/// annotations, field names in paths: what expansion leaves no trace of).
pub fn symbols_named(forms: &[Datum], name: &str, out: &mut Vec<Span>) {
    for d in forms {
        match &d.kind {
            DatumKind::Sym(s) if s == name => out.push(d.span),
            DatumKind::List(xs)
            | DatumKind::Slot(xs)
            | DatumKind::Kind(xs)
            | DatumKind::Dict(xs) => symbols_named(xs, name, out),
            DatumKind::Path(base, segs) => {
                symbols_named(std::slice::from_ref(base), name, out);
                for s in segs {
                    match s {
                        PathSeg::Field(n, sp) if n == name => out.push(*sp),
                        PathSeg::Index(i) => symbols_named(std::slice::from_ref(i), name, out),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard modules the prelude imports (from the texts omnic
    /// holds), and no file of the disk.
    #[derive(Default)]
    struct StdOnly(std::collections::HashMap<String, crate::syntax::FileId>);
    impl ImportLoad for StdOnly {
        fn load(
            &mut self,
            sources: &mut SourceMap,
            rel: &str,
            at: Span,
        ) -> expand::Result<ImportedFile> {
            let Some(module) = rel
                .strip_prefix(expand::STD_PATH_PREFIX)
                .and_then(|r| r.strip_suffix(".omni"))
                .filter(|m| expand::std_source(m).is_some())
            else {
                return Err(expand::ExpandError::new(
                    format!("cannot import \"{rel}\""),
                    at,
                    "here",
                ));
            };
            let mut known = self.0.get(module).copied();
            let imported = expand::import_std(sources, module, &mut known)?;
            self.0.insert(module.to_string(), imported.file);
            Ok(imported)
        }
    }

    fn host() -> Host {
        Host {
            prelude_name: "std/prelude.omni",
            prelude_text: include_str!("../../../std/prelude.omni"),
            prelude_path: None,
            new_imports: |_, _| Box::<StdOnly>::default(),
        }
    }

    fn analyse_text(text: &str) -> Analysis {
        let host = host();
        analyse(&host, &read_prelude(&host), Path::new("t.omni"), text)
    }

    fn span_text(text: &str, s: Span) -> &str {
        &text[s.start as usize..s.end as usize]
    }

    /// A syntax error in one form and expansion errors in others are all
    /// reported; the forms around the unreadable one are still analysed.
    #[test]
    fn every_error_of_the_file() {
        let text =
            "(define a (car 1 2))\n(define b (\n(define c [x] (+ x nope))\n(define d (if))\n";
        let a = analyse_text(text);
        let found: Vec<&str> = a
            .diagnostics
            .iter()
            .map(|d| span_text(text, d.span))
            .collect();
        // The unbound `nope` is left out while the file does not read (it
        // could be defined in the broken form).
        assert_eq!(found, ["car", "(", "if"], "{:#?}", a.diagnostics);
        assert!(a
            .defs()
            .iter()
            .any(|d| d.name == "c" && d.kind == DefKind::Function));
    }

    #[test]
    fn names_resolve_to_their_bindings() {
        let text = "(define f [x] \"Doc.\" (let [y x] (+ y x)))\n(f 1)\n";
        let a = analyse_text(text);
        assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
        let x_uses: Vec<u32> = a
            .refs()
            .iter()
            .filter(|r| matches!(r.target, Target::Local(_)) && span_text(text, r.span) == "x")
            .map(|r| r.span.start)
            .collect();
        // The parameter and its two uses, one local.
        assert_eq!(x_uses.len(), 3);
        let f_refs: Vec<u32> = a
            .refs()
            .iter()
            .filter(|r| r.target == Target::Global("f".into()))
            .map(|r| r.span.start)
            .collect();
        assert_eq!(f_refs, [8, 43]);
        let f = a.defs().iter().find(|d| d.name == "f").unwrap();
        assert_eq!(f.signature, "(define f [x])");
        assert_eq!(f.doc.as_deref(), Some("Doc."));
        // `+` is a primitive call: its head is a reference too.
        assert!(a
            .refs()
            .iter()
            .any(|r| r.target == Target::Prim("+".into())));
    }

    #[test]
    fn allocation_sites_carry_ctrr_reasons() {
        let text = "(define keep (list 1 2))\n(define f [n] (length (list n n)))\n(f 3)\n";
        let a = analyse_text(text);
        let notes: Vec<&str> = a.sites().iter().map(|s| s.text.as_str()).collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("in `toplevel:keep` -> region state")),
            "{notes:#?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("in `f` -> region local(")),
            "{notes:#?}"
        );
        // Not computed for a file with errors.
        assert!(analyse_text("(car)").sites().is_empty());
    }

    #[test]
    fn structs_fields_macros_and_modules_are_definitions() {
        let text = "(module m (export g)\n  (define g [] 1)\n  (define h [] 2))\n\
                    (define {struct P} [x {Int}] y)\n\
                    (define [syntax sw] [(sw a b) (list b a)])\n";
        let mut defs = Vec::new();
        let forms = syntax::read_program(text, 0).unwrap();
        collect_definitions(&forms, None, &mut defs);
        let seen: Vec<(String, DefKind, bool)> = defs
            .iter()
            .map(|d| (d.key.clone(), d.kind, d.private))
            .collect();
        assert_eq!(
            seen,
            [
                ("m".to_string(), DefKind::Module, false),
                ("m/g".to_string(), DefKind::Function, false),
                ("m/h".to_string(), DefKind::Function, true),
                ("P".to_string(), DefKind::Struct, false),
                ("P.x".to_string(), DefKind::Field, false),
                ("P.y".to_string(), DefKind::Field, false),
                ("sw".to_string(), DefKind::Macro, false),
            ]
        );
        let x = &defs[4];
        assert_eq!(span_text(text, x.name_span), "x");
        assert_eq!(defs[3].signature, "(define {struct P} [x {Int}] [y])");
    }
}
