//! `(import "path")` and `(module NAME (export ...) body...)`: top-level
//! source inclusion, each file once, and module namespaces.
//!
//! Modules are a compile-time namespace. Every top-level form carries the
//! namespace it was written in: the global one (the program and files
//! without `module`), the prelude's, or a module's. A module's definitions
//! are renamed to unique global names (`geometry/helper`) before they are
//! declared, and each namespace maps the names its code sees (its own
//! definitions, its imports) to those global names (see
//! `Expander::resolve_global`), so a call of a module's function is still a
//! direct call of a known global. The prelude's names are seen by every
//! namespace unless it defines or imports the name itself; a program's
//! definition of a prelude name is renamed (`reverse#0`), so the prelude's
//! own references keep meaning the prelude's definitions.
//!
//! Imports are resolved while the top-level forms are flattened (before any
//! name is declared), so an imported file's definitions are ordinary globals
//! of the one program and its forms run at the place of its first import.
//! The expander does not touch the file system: the driver passes a loader
//! that resolves `path` relative to the file holding the `import` (the
//! `Span`'s file), reads and parses it, and answers with the file's
//! [`ImportedFile`]. The loader must answer the same `file` id every time it
//! resolves the same file; the expander uses the ids to load each file once
//! and to report an import cycle (a file imported while it is still being
//! flattened — the main program included) with the chain of files.

use super::{macros, ExpandError, Expander, Result};
use crate::syntax::{Datum, DatumKind, FileId, Span};
use std::collections::{HashMap, HashSet};

/// The namespace of the program and of every file without `module`.
pub(super) const GLOBAL_NS: usize = 0;
/// The prelude's namespace.
pub(super) const PRELUDE_NS: usize = 1;

/// The standard library's modules, by name, compiled into omnic: the
/// prelude imports those written in OmniLisp, and `(import NAME)` (a
/// symbol, not a path) names one. Their definitions are globals `std/NAME`
/// (shared by every standard module, so call stacks and symbols read
/// `std/map`): their names must differ across modules. A standard module
/// may export built-in primitives (`strings`, `io`): importing one binds
/// the primitive itself.
pub const STD_MODULES: &[(&str, &str)] = &[
    ("lists", include_str!("../../../std/lists.omni")),
    ("arrays", include_str!("../../../std/arrays.omni")),
    ("dicts", include_str!("../../../std/dicts.omni")),
    ("functions", include_str!("../../../std/functions.omni")),
    ("strings", include_str!("../../../std/strings.omni")),
    ("io", include_str!("../../../std/io.omni")),
];

/// How a loader is asked for standard module `NAME`: the path
/// `<std>/NAME.omni` (no file of the search path is named so).
pub const STD_PATH_PREFIX: &str = "<std>/";

/// The text of standard module `name`.
pub fn std_source(name: &str) -> Option<&'static str> {
    STD_MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Standard module `module` as an import: its file (added to `sources` the
/// first time, then remembered in `known`) and its forms, read again at
/// each import (rare; keeping them would cost every program a copy).
pub fn import_std(
    sources: &mut crate::syntax::SourceMap,
    module: &str,
    known: &mut Option<FileId>,
) -> Result<ImportedFile> {
    let name = format!("std/{module}.omni");
    let text = std_source(module).ok_or_else(|| {
        ExpandError::new(
            format!("no standard module `{module}`"),
            Span::default(),
            "here",
        )
    })?;
    let file = *known.get_or_insert_with(|| sources.add(name.clone(), text.to_string()));
    let forms = crate::syntax::read_program(sources.source(file), file)
        .map_err(|e| ExpandError::new(e.message, e.span, e.label))?;
    Ok(ImportedFile {
        file,
        name,
        forms,
        std: true,
    })
}

/// The file name of the prelude in messages and locations.
pub const PRELUDE_NAME: &str = "std/prelude.omni";

/// Whether `file` (a name in messages and locations) is the prelude's or
/// a standard module's: code the program did not write.
pub fn is_std_file(file: &str) -> bool {
    file == PRELUDE_NAME
        || file
            .strip_prefix("std/")
            .and_then(|f| f.strip_suffix(".omni"))
            .is_some_and(|m| std_source(m).is_some())
}

/// The names one namespace sees besides the prelude's and the primitives.
#[derive(Debug, Default)]
pub(super) struct Namespace {
    /// The module's name (empty for the global and prelude namespaces).
    pub(super) name: String,
    /// Prefix of its definitions' global names (the name, made unique).
    pub(super) prefix: String,
    /// Exported names, with their spans in the `export` list.
    pub(super) exports: Vec<(String, Span)>,
    /// Top-level definitions: name as written → (global name, name's span).
    pub(super) defined: HashMap<String, (String, Span)>,
    /// Imported names (`area`, `g/area`) → where they come from.
    pub(super) imported: HashMap<String, ImportedName>,
    /// Modules imported here, by the qualifier naming them (`g` of
    /// `:as g`, else the module's name), for "private" messages.
    pub(super) modules: HashMap<String, usize>,
}

/// One imported name.
#[derive(Debug, Clone)]
pub(super) struct ImportedName {
    /// The global name it stands for.
    pub(super) key: String,
    /// The `import` form that brought it.
    pub(super) span: Span,
    /// The module it comes from.
    pub(super) module: usize,
}

/// The options of an `import`: `:as q` and `:only [names]`.
struct ImportSpec {
    path: String,
    span: Span,
    qualifier: Option<String>,
    only: Option<Vec<(String, Span)>>,
}

/// A file loaded for `(import "path")`.
#[derive(Debug, Clone)]
pub struct ImportedFile {
    /// Identity of the file: equal for every import that resolves to it.
    pub file: FileId,
    /// Its name for messages.
    pub name: String,
    /// Its top-level forms.
    pub forms: Vec<Datum>,
    /// A standard module (see [`STD_MODULES`]).
    pub std: bool,
}

/// The driver's loader: `(path as written, span of the import form)`.
pub type ImportLoader<'a> = dyn FnMut(&str, Span) -> Result<ImportedFile> + 'a;

/// Import bookkeeping of one expansion.
pub(super) struct Imports<'l, 'a> {
    loader: &'l mut ImportLoader<'a>,
    /// Files being flattened, outermost first (the main program is first,
    /// its name unknown until something imports it).
    active: Vec<(FileId, Option<String>)>,
    done: HashSet<FileId>,
    /// The namespace of the forms being flattened (innermost last).
    pub(super) ns_stack: Vec<usize>,
    /// The module each file holds, if it holds one.
    file_module: HashMap<FileId, usize>,
    /// The files of standard modules loaded so far.
    pub(super) std_files: HashSet<FileId>,
}

impl<'l, 'a> Imports<'l, 'a> {
    pub(super) fn new(loader: &'l mut ImportLoader<'a>, main: Option<FileId>) -> Self {
        Imports {
            loader,
            active: main.map(|f| (f, None)).into_iter().collect(),
            done: HashSet::new(),
            ns_stack: vec![GLOBAL_NS],
            file_module: HashMap::new(),
            std_files: HashSet::new(),
        }
    }
}

/// If `d` is `(import ...)`, its path and options (checked).
fn import_spec(d: &Datum) -> Result<Option<ImportSpec>> {
    let DatumKind::List(items) = &d.kind else {
        return Ok(None);
    };
    if items.first().and_then(macros::keyword) != Some("import") {
        return Ok(None);
    }
    let malformed = |span| {
        ExpandError::new(
            "`import` takes a path or a standard module's name, and options: `(import \"path/to/file.omni\")`, `(import lists)`, `(import \"geometry.omni\" :as g)`, `(import \"geometry.omni\" :only [area])`",
            span,
            "malformed import",
        )
    };
    // `(import lists)`: a standard module by name.
    let path = match items.get(1).map(|x| &x.kind) {
        Some(DatumKind::Str(path)) => path.clone(),
        Some(DatumKind::Sym(name)) => {
            if std_source(name).is_none() {
                let names: Vec<&str> = STD_MODULES.iter().map(|(n, _)| *n).collect();
                return Err(ExpandError::new(
                    format!("there is no standard module `{name}`"),
                    items[1].span,
                    "not a standard module",
                )
                .with_note(format!(
                    "the standard modules: {}; a file is imported by its path: `(import \"{name}.omni\")`",
                    names.join(" ")
                )));
            }
            format!("{STD_PATH_PREFIX}{name}.omni")
        }
        _ => return Err(malformed(d.span)),
    };
    let mut spec = ImportSpec {
        path,
        span: d.span,
        qualifier: None,
        only: None,
    };
    let mut rest = &items[2..];
    while let [opt, value, more @ ..] = rest {
        let key = match &opt.kind {
            DatumKind::List(q) if q.len() == 2 && macros::keyword(&q[0]) == Some("quote") => {
                q[1].as_sym()
            }
            _ => None,
        };
        match (key, &value.kind) {
            (Some("as"), DatumKind::Sym(q)) if spec.qualifier.is_none() => {
                spec.qualifier = Some(q.clone())
            }
            (Some("only"), DatumKind::Slot(names)) if spec.only.is_none() => {
                let mut only = Vec::new();
                for n in names {
                    match n.as_sym() {
                        Some(s) => only.push((s.to_string(), n.span)),
                        None => return Err(malformed(n.span)),
                    }
                }
                spec.only = Some(only);
            }
            _ => return Err(malformed(opt.span.to(value.span))),
        }
        rest = more;
    }
    if let [extra, ..] = rest {
        return Err(malformed(extra.span));
    }
    Ok(Some(spec))
}

impl Expander {
    /// [`Self::flatten_with_imports`], recording an error and going on
    /// with the next form (so every broken import is reported).
    pub(super) fn flatten_or_record(
        &mut self,
        d: Datum,
        out: &mut Vec<(Datum, usize)>,
        imports: &mut Imports,
    ) {
        if let Err(e) = self.flatten_with_imports(d, out, imports) {
            self.errors.push(e);
        }
    }

    /// Splice top-level `(do ...)`/`(begin ...)` (so their defines are
    /// global) and `(import "path")` (the imported file's forms, the first
    /// time it is imported).
    pub(super) fn flatten_with_imports(
        &mut self,
        d: Datum,
        out: &mut Vec<(Datum, usize)>,
        imports: &mut Imports,
    ) -> Result<()> {
        // Macros: a definition is recorded (it is not a form of the
        // program), every other form has its macro uses expanded first,
        // so a macro may expand into `(begin (define ...) ...)` or an
        // import.
        let ns = *imports.ns_stack.last().expect("a namespace");
        if macros::is_syntax_definition(&d) {
            match macros::parse_definition(&d) {
                Ok(mut m) => {
                    m.ns = ns;
                    // A macro is a name of its namespace like a function:
                    // it may not also be imported there.
                    if let Some(imported) = self.namespaces[ns].imported.get(&m.name) {
                        let from = &self.namespaces[imported.module].name;
                        let e = ExpandError::new(
                            format!(
                                "`{}` is defined here and also imported from module {from}",
                                m.name
                            ),
                            m.name_span,
                            "defined here",
                        )
                        .with_secondary(imported.span, format!("`{}` imported here", m.name))
                        .with_note(format!(
                            "rename the macro, or import module {from} with `:as` or `:only`"
                        ));
                        self.macros.define(m);
                        return Err(e);
                    }
                    self.macros.define(m)
                }
                Err(e) => {
                    self.macros.define_broken(&d, ns);
                    return Err(e);
                }
            }
            return Ok(());
        }
        // A module's forms are top-level forms of its namespace: they are
        // flattened (their macro uses expanded) one by one.
        if let DatumKind::List(items) = &d.kind {
            if items.first().and_then(macros::keyword) == Some("module") {
                let span = d.span;
                let DatumKind::List(items) = d.kind else {
                    unreachable!("a list")
                };
                return self.flatten_module(items, span, out, imports);
            }
        }
        let d = self.macros.expand_uses(d, ns)?;
        if let DatumKind::List(items) = &d.kind {
            if let Some(h) = items.first().and_then(macros::keyword) {
                if h == "do" || h == "begin" {
                    for x in items[1..].iter().cloned() {
                        self.flatten_or_record(x, out, imports);
                    }
                    return Ok(());
                }
            }
        }
        let Some(spec) = import_spec(&d)? else {
            let ns = *imports.ns_stack.last().expect("a namespace");
            out.push((d, ns));
            return Ok(());
        };
        let span = spec.span;
        let file = (imports.loader)(&spec.path, span)?;
        if let Some(k) = imports.active.iter().position(|(f, _)| *f == file.file) {
            let mut chain: Vec<String> = imports.active[k..]
                .iter()
                .map(|(_, n)| n.clone().unwrap_or_else(|| file.name.clone()))
                .collect();
            chain.push(file.name.clone());
            return Err(ExpandError::new(
                format!("import cycle: {}", chain.join(" -> ")),
                span,
                format!("`{}` is still being loaded", file.name),
            ));
        }
        if file.std {
            imports.std_files.insert(file.file);
        }
        if imports.done.insert(file.file) {
            // The first import: the file's forms run here. A file
            // without `module` defines globals wherever it is imported.
            imports.active.push((file.file, Some(file.name.clone())));
            imports.ns_stack.push(GLOBAL_NS);
            for x in file.forms {
                self.flatten_or_record(x, out, imports);
            }
            imports.ns_stack.pop();
            imports.active.pop();
        }
        let importer = *imports.ns_stack.last().expect("a namespace");
        match imports.file_module.get(&file.file) {
            Some(&module) => self.bind_imports(importer, module, &spec),
            None if spec.qualifier.is_some() || spec.only.is_some() => Err(ExpandError::new(
                format!("`{}` is not a module: `:as` and `:only` need a file holding `(module NAME (export ...) ...)`", file.name),
                span,
                "not a module",
            )),
            None => Ok(()),
        }
    }

    /// `(module NAME (export name ...) body...)`: the body's forms are
    /// flattened in a new namespace.
    fn flatten_module(
        &mut self,
        items: Vec<Datum>,
        span: Span,
        out: &mut Vec<(Datum, usize)>,
        imports: &mut Imports,
    ) -> Result<()> {
        let malformed = |at| {
            ExpandError::new(
                "`module` takes a name, an export list and the module's forms: `(module geometry (export area Circle) ...)`",
                at,
                "malformed module",
            )
        };
        let Some(name) = items.get(1).and_then(Datum::as_sym) else {
            return Err(malformed(span));
        };
        let mut exports = Vec::new();
        match items.get(2).map(|d| &d.kind) {
            Some(DatumKind::List(xs)) if xs.first().and_then(macros::keyword) == Some("export") => {
                for x in &xs[1..] {
                    match x.as_sym() {
                        Some(s) => exports.push((s.to_string(), x.span)),
                        None => return Err(malformed(x.span)),
                    }
                }
            }
            _ => return Err(malformed(items.get(2).map_or(span, |d| d.span))),
        }
        let file = imports.active.last().map(|(f, _)| *f).unwrap_or(span.file);
        if *imports.ns_stack.last().expect("a namespace") != GLOBAL_NS {
            return Err(ExpandError::new(
                "a module cannot be defined inside another module or the prelude",
                span,
                "nested module",
            ));
        }
        if imports.file_module.contains_key(&file) {
            return Err(ExpandError::new(
                "a file holds at most one module",
                span,
                "a second module",
            ));
        }
        // Two files may name their modules alike: their globals differ.
        // The standard modules share the prefix `std`.
        let std = imports.std_files.contains(&file);
        let mut prefix = if std {
            "std".to_string()
        } else {
            name.to_string()
        };
        let mut n = 1;
        while !std && self.namespaces.iter().any(|ns| ns.prefix == prefix) {
            n += 1;
            prefix = format!("{name}~{n}");
        }
        let ns = self.namespaces.len();
        self.namespaces.push(Namespace {
            name: name.to_string(),
            prefix,
            exports,
            ..Namespace::default()
        });
        imports.file_module.insert(file, ns);
        imports.ns_stack.push(ns);
        for x in items.into_iter().skip(3) {
            self.flatten_or_record(x, out, imports);
        }
        imports.ns_stack.pop();
        Ok(())
    }

    /// Make `module`'s exports (those `spec` selects, qualified as it
    /// says) names of namespace `importer`.
    fn bind_imports(&mut self, importer: usize, module: usize, spec: &ImportSpec) -> Result<()> {
        let m = &self.namespaces[module];
        let selected: Vec<(String, Span)> = match &spec.only {
            Some(only) => {
                for (n, at) in only {
                    if !m.exports.iter().any(|(e, _)| e == n) {
                        return Err(ExpandError::new(
                            format!("module {} does not export `{n}`", m.name),
                            *at,
                            "not exported",
                        )
                        .with_note(format!(
                            "its exports: {}",
                            m.exports
                                .iter()
                                .map(|(e, _)| e.as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        )));
                    }
                }
                only.clone()
            }
            None => m.exports.clone(),
        };
        let qualifier = spec.qualifier.clone().unwrap_or_else(|| m.name.clone());
        let prefix = m.prefix.clone();
        let mut bound = Vec::new();
        for (n, _) in selected {
            let visible = match &spec.qualifier {
                Some(q) => format!("{q}/{n}"),
                None => n.clone(),
            };
            // An exported macro is imported as macro too.
            if self.macros.defines(module, &n) {
                if let Some(m) = self
                    .macros
                    .get(&visible, importer)
                    .filter(|m| m.ns == importer)
                {
                    return Err(ExpandError::new(
                        format!("`{visible}` is imported here and also defined as a macro"),
                        spec.span,
                        format!("`{visible}` imported here"),
                    )
                    .with_secondary(m.name_span, "the macro is defined here")
                    .with_note("rename the macro, or import the module with `:as` or `:only`"));
                }
                self.macros.import(importer, &visible, module, &n);
            }
            bound.push((visible, format!("{prefix}/{n}")));
        }
        let ns = &mut self.namespaces[importer];
        ns.modules.insert(qualifier, module);
        for (visible, key) in bound {
            if let Some(prev) = ns.imported.get(&visible) {
                if prev.key != key {
                    return Err(ExpandError::new(
                        format!("`{visible}` is imported twice, naming two different definitions"),
                        spec.span,
                        format!("`{visible}` imported here"),
                    )
                    .with_secondary(prev.span, format!("`{visible}` first imported here"))
                    .with_note("import one of them with `:as` or leave it out with `:only`"));
                }
                continue; // the same binding again
            }
            ns.imported.insert(
                visible,
                ImportedName {
                    key,
                    span: spec.span,
                    module,
                },
            );
        }
        Ok(())
    }
}

/// Rename the symbol at `span` in `d` (a definition's name) to `to`.
pub(super) fn rename_symbol(d: &mut Datum, span: Span, to: &str) -> bool {
    match &mut d.kind {
        DatumKind::Sym(s) if d.span == span => {
            *s = to.to_string();
            true
        }
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => {
            xs.iter_mut().any(|x| rename_symbol(x, span, to))
        }
        DatumKind::Path(base, _) => rename_symbol(base, span, to),
        _ => false,
    }
}
