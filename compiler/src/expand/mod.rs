//! Expansion: datums → core AST with resolved names.
//!
//! Entry point: [`expand_program_with_imports`]. Macro uses are rewritten first, on
//! datums, as the top level is flattened (`macros.rs`; `Expander::resolve`
//! gives the names a macro introduced their hygienic meaning). Special
//! forms are desugared here (`when`, `unless`, `cond`, `and`, `or`, `do`,
//! destructuring `let`, quasiquote, inner `define`s as letrec*), every
//! symbol is resolved to a local, a global or a runtime primitive, and
//! malformed forms are reported with the span of the offending datum.

pub mod ast;
mod dispatch;
mod effects;
mod forms;
mod import;
mod macros;
mod pattern;
pub(crate) mod shape;
mod types;

pub use ast::{Expr, ExprKind, GlobalId, Literal, LocalId, Program};
pub use import::{
    import_std, is_std_file, std_source, ImportLoader, ImportedFile, PRELUDE_NAME, STD_MODULES,
    STD_PATH_PREFIX,
};

use crate::syntax::{Datum, DatumKind, Span};
use shape::TopForm;
use std::collections::{HashMap, HashSet};

/// An expansion error (malformed special form, unbound name, ...).
#[derive(Debug, Clone)]
pub struct ExpandError {
    pub message: String,
    pub span: Span,
    pub label: String,
    /// Hints shown under the report.
    pub notes: Vec<String>,
    /// Further locations (e.g. an earlier definition).
    pub secondary: Vec<(Span, String)>,
}

impl ExpandError {
    pub fn new(message: impl Into<String>, span: Span, label: impl Into<String>) -> ExpandError {
        ExpandError {
            message: message.into(),
            span,
            label: label.into(),
            notes: Vec::new(),
            secondary: Vec::new(),
        }
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> ExpandError {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> ExpandError {
        self.notes.push(note.into());
        self
    }
}

pub type Result<T> = std::result::Result<T, ExpandError>;

/// Every error of a program, in source order (never empty).
pub type Errors = Vec<ExpandError>;

/// Expand the prelude's datums followed by the program's: both are
/// top-level forms of one program, run in order. `loader` resolves, reads
/// and parses an imported file — the standard modules the prelude imports
/// included (see `import.rs`).
pub fn expand_program_with_imports(
    prelude: Vec<Datum>,
    program: Vec<Datum>,
    loader: &mut ImportLoader,
) -> std::result::Result<Program, Errors> {
    expand_program_keeping(prelude, program, loader, false)
}

/// [`expand_program_with_imports`]; with `keep_expanded`, the result's
/// `expanded` holds a copy of the program's top-level forms after macro
/// expansion (for `--dump-expanded`). Without, it stays empty: copying
/// and later dropping every form was a fifth of the front end's time
/// (issue 13).
pub fn expand_program_keeping(
    prelude: Vec<Datum>,
    program: Vec<Datum>,
    loader: &mut ImportLoader,
    keep_expanded: bool,
) -> std::result::Result<Program, Errors> {
    let (prog, errors) = expand_partial(prelude, program, loader, keep_expanded);
    if errors.is_empty() {
        Ok(prog)
    } else {
        Err(errors)
    }
}

/// [`expand_program_with_imports`] for tools that want what expanded even
/// when something did not (the language server): the program holds every
/// top-level form that expanded (a broken one is left out, its name still
/// declared), and the errors are every error found, in source order (empty
/// when the program is whole).
pub fn expand_program_partial(
    prelude: Vec<Datum>,
    program: Vec<Datum>,
    loader: &mut ImportLoader,
) -> (Program, Errors) {
    expand_partial(prelude, program, loader, false)
}

fn expand_partial(
    prelude: Vec<Datum>,
    program: Vec<Datum>,
    loader: &mut ImportLoader,
    keep_expanded: bool,
) -> (Program, Errors) {
    // The global and the prelude's namespaces; modules add theirs.
    let mut ex = Expander {
        namespaces: vec![import::Namespace::default(), import::Namespace::default()],
        ..Expander::default()
    };
    let mut tagged = Vec::new();
    let main = program.first().map(|d| d.span.file);
    let prelude_file = prelude.first().map(|d| d.span.file);
    let mut imports = import::Imports::new(loader, main);
    imports.ns_stack.push(import::PRELUDE_NS);
    for d in prelude {
        ex.flatten_or_record(d, &mut tagged, &mut imports);
    }
    imports.ns_stack.pop();
    for d in program {
        ex.flatten_or_record(d, &mut tagged, &mut imports);
    }
    let prelude_file = prelude_file.unwrap_or(u32::MAX);
    // The library's files: the prelude and the standard modules.
    let mut std_files = std::mem::take(&mut imports.std_files);
    std_files.insert(prelude_file);
    if keep_expanded {
        ex.prog.expanded = tagged
            .iter()
            .filter(|(d, _)| !std_files.contains(&d.span.file))
            .map(|(d, _)| d.clone())
            .collect();
    }
    ex.name_definitions(&mut tagged);
    let (forms, form_ns): (Vec<Datum>, Vec<usize>) = tagged.into_iter().unzip();
    // Every top-level form's shape, recognised once. A form whose shape is
    // broken is reported and skipped; the name of a Scheme-style
    // `(define (f x) ...)` is still declared, so its uses do not add
    // "unbound name" errors to the report.
    let mut broken = vec![false; forms.len()];
    let shapes: Vec<TopForm> = forms
        .iter()
        .zip(broken.iter_mut())
        .map(|(d, broken)| match shape::recognise(d) {
            Ok(form) => form,
            Err(e) => {
                ex.errors.push(e);
                *broken = true;
                match shape::scheme_define_name(d) {
                    Some((name, name_span)) => TopForm::Define { name, name_span },
                    None => TopForm::Expr,
                }
            }
        })
        .collect();
    for ((d, form), ns) in forms.iter().zip(&shapes).zip(&form_ns) {
        ex.ns = *ns;
        ex.declare_toplevel(form, std_files.contains(&d.span.file));
    }
    ex.ns = import::GLOBAL_NS;
    for form in &shapes {
        ex.declare_typedef(form);
    }
    // A broken plan leaves the generics half declared: report what was
    // found so far rather than expanding on top of it.
    if let Err(e) = ex.plan_generics(&shapes) {
        ex.errors.push(e);
        return ex.into_parts();
    }
    ex.plan_result_checks(&forms, &shapes);
    ex.known_functions = known_functions(&ex, &shapes);
    for (((d, form), broken), ns) in forms.iter().zip(&shapes).zip(broken).zip(&form_ns) {
        if broken {
            continue;
        }
        ex.ns = *ns;
        ex.in_prelude = d.span.file == prelude_file;
        let expanded = match ex.expand_method_define(form, d.span) {
            Ok(Some(method)) => Ok(method),
            Ok(None) => ex.expand_toplevel(d, form).map(|e| vec![e]),
            Err(e) => Err(e),
        };
        match expanded {
            Ok(es) => ex.prog.body.extend(es),
            Err(e) => {
                ex.errors.push(e);
                ex.recover();
            }
        }
    }
    ex.ns = import::GLOBAL_NS;
    ex.check_known_calls();
    ex.into_parts()
}

/// The top-level functions a call can be checked against at compile time:
/// a global defined once, by a function `define`, never `set!`.
fn known_functions(ex: &Expander, shapes: &[TopForm]) -> HashMap<GlobalId, KnownArity> {
    let mut known = HashMap::new();
    for form in shapes {
        let TopForm::Function { name, shape, .. } = form else {
            continue;
        };
        let Some(g) = ex.global_index.get(*name) else {
            continue;
        };
        if ex.prog.globals[g.0 as usize].definitions != 1 || ex.generics.contains_key(*name) {
            continue;
        }
        if let Ok(p) = shape::parse_params(shape.params) {
            known.insert(
                *g,
                KnownArity {
                    fixed: p.fixed.len(),
                    rest: p.rest.is_some(),
                },
            );
        }
    }
    known
}

/// The parameter count of a known top-level function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownArity {
    fixed: usize,
    rest: bool,
}

impl KnownArity {
    fn accepts(self, n: usize) -> bool {
        n == self.fixed || (self.rest && n > self.fixed)
    }

    fn describe(self) -> String {
        let s = if self.fixed == 1 { "" } else { "s" };
        if self.rest {
            format!("at least {} argument{s}", self.fixed)
        } else {
            format!("{} argument{s}", self.fixed)
        }
    }
}

/// `(1 2)`, `("f" x)`: a literal in call position is never a function.
fn call_of_literal(lit: &Literal, head: &Datum) -> ExpandError {
    let what = match lit {
        Literal::Int(_) => "an integer",
        Literal::Float(_) => "a float",
        Literal::Str(_) => "a string",
        Literal::Char(_) => "a character",
        Literal::Bool(_) => "a boolean",
        Literal::Nothing => "`nothing`",
        Literal::Nil => "the empty list",
    };
    ExpandError::new(
        format!("cannot call {what}: `{head}` is not a function"),
        head.span,
        "a literal in call position",
    )
    .with_note("to build a list of values, quote it or use `list`: `'(1 2)`, `(list 1 2)`")
}

/// Names longer than this get no "did you mean" (the search is quadratic
/// in the name's length).
const MAX_QUOTED_NAME: usize = 64;

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != *cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Names of the special forms; a local binding shadows them (the language
/// server offers them in completion).
pub const SPECIAL_FORMS: &[&str] = &[
    "quote",
    "quasiquote",
    "unquote",
    "unquote-splicing",
    "if",
    "when",
    "unless",
    "cond",
    "and",
    "or",
    "do",
    "begin",
    "let",
    "fn",
    "λ",
    "lambda",
    "define",
    "set!",
    "match",
    "try",
    "catch",
    "handle",
    "perform",
    "resume",
    "put!",
    "import",
    "module",
];

/// Special forms of later language layers, reported as not yet implemented.
const NOT_YET: &[&str] = &[];

#[derive(Default)]
pub(crate) struct Expander {
    pub(crate) prog: Program,
    global_index: HashMap<String, GlobalId>,
    scopes: Vec<HashMap<String, LocalId>>,
    /// Every local name in scope now, its innermost binding last: `resolve`
    /// looks a name up once instead of walking the scopes (a program
    /// nested 20,000 `let`s deep took 27 s to expand, every name resolved
    /// through every enclosing scope). Kept in step with `scopes` by
    /// `push_scope`, `pop_scope`, `bind_local` and `truncate_scopes`.
    visible: HashMap<String, Vec<LocalId>>,
    /// Struct definitions by name (constructors, struct patterns).
    pub(crate) structs: HashMap<String, types::StructInfo>,
    /// Generic functions (several top-level function `define`s of a name).
    generics: HashMap<String, dispatch::GenericInfo>,
    /// Set while expanding a generic's method: dispatch checks its parameters.
    skip_param_checks: bool,
    /// The `{Ret}` type name of top-level functions whose result check lets
    /// a tail call to them stay a tail call (see `check_result`).
    result_types: HashMap<GlobalId, String>,
    /// Globals the prelude defines with a `%` name: its internals, hidden
    /// from the program.
    internal_globals: HashSet<GlobalId>,
    /// Set while expanding the prelude's forms (which may use internals).
    in_prelude: bool,
    /// Errors found so far: expansion goes on after an error (with the
    /// next top-level form, or the next form of a body), so that one run
    /// reports every error of the file.
    pub(crate) errors: Vec<ExpandError>,
    /// Top-level functions whose calls are checked for their argument count.
    known_functions: HashMap<GlobalId, KnownArity>,
    /// Calls of globals to check once every `set!` is known: the global,
    /// the argument count, the call's head and the name it is called by
    /// (`map`, `g/area`: not the global's `std/map`).
    calls_to_check: Vec<(GlobalId, usize, Span, Option<String>)>,
    /// Locals known to hold a struct of the named type.
    struct_locals: HashMap<LocalId, String>,
    /// The macros defined so far (see `macros.rs`).
    macros: macros::Macros,
    /// Namespaces: global, prelude, then one per module (see `import.rs`).
    namespaces: Vec<import::Namespace>,
    /// The namespace of the form being expanded.
    ns: usize,
    /// The namespace each top-level definition's global belongs to
    /// (globals the expander makes for itself have none).
    global_ns: HashMap<GlobalId, usize>,
    /// The name a global is declared by (`reverse#0`) when it differs from
    /// its name in messages and stack traces (`reverse`).
    renamed_globals: HashMap<GlobalId, String>,
}

/// Prefix of the spelling by which the expander's generated datums name a
/// runtime internal (`#%check-type`): the reader never makes a symbol with
/// `#`, so programs cannot.
pub(crate) const INTERNAL_PREFIX: char = '#';

pub(crate) enum Resolved {
    Local(LocalId),
    Global(GlobalId),
    Prim(&'static omni_runtime::prims::PrimDesc),
    Special,
    Unbound,
}

impl Expander {
    // ---- scopes ----
    pub(crate) fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }
    pub(crate) fn pop_scope(&mut self) {
        let Some(scope) = self.scopes.pop() else {
            return;
        };
        for name in scope.into_keys() {
            if let Some(stack) = self.visible.get_mut(&name) {
                stack.pop();
                if stack.is_empty() {
                    self.visible.remove(&name);
                }
            }
        }
    }
    /// Leave every scope opened beyond the first `depth`.
    fn truncate_scopes(&mut self, depth: usize) {
        while self.scopes.len() > depth {
            self.pop_scope();
        }
    }
    pub(crate) fn bind_local(&mut self, name: &str, span: Span) -> LocalId {
        // A local may share a macro's name: the macro expander left the
        // uses in its scope alone (see `Macros::walk_binder`).
        let id = LocalId(self.prog.locals.len() as u32);
        self.prog.locals.push(ast::LocalInfo {
            name: name.to_string(),
            span,
        });
        let scope = self.scopes.last_mut().expect("a scope");
        match scope.insert(name.to_string(), id) {
            // The same name again in one scope: the new binding replaces
            // the old one, as in the scope's map.
            Some(_) => {
                if let Some(top) = self.visible.get_mut(name).and_then(|s| s.last_mut()) {
                    *top = id;
                }
            }
            None => self.visible.entry(name.to_string()).or_default().push(id),
        }
        id
    }
    /// A compiler temporary, not visible to the program.
    pub(crate) fn fresh_local(&mut self, hint: &str, span: Span) -> LocalId {
        let id = LocalId(self.prog.locals.len() as u32);
        self.prog.locals.push(ast::LocalInfo {
            name: format!("%{hint}"),
            span,
        });
        id
    }

    pub(crate) fn resolve(&self, name: &str) -> Resolved {
        if let Some(l) = self.visible.get(name).and_then(|s| s.last()) {
            return Resolved::Local(*l);
        }
        // Hygiene: a name a macro template introduced (`tmp#3`) that no
        // binder of the same expansion binds means what its base name
        // means at the top level, where macros are defined: the use
        // site's locals are skipped. A top-level `define` the template
        // introduced (`helper#3`) is a global of that spelling.
        if let Some(base) = macros::unmark(name) {
            if let Some(g) = self.namespace_global(name, self.ns) {
                return Resolved::Global(g);
            }
            if let Some(g) = self.global_index.get(name) {
                return Resolved::Global(*g);
            }
            // ... in the namespace of the macro's definition.
            let ns = self.macros.namespace_of(name).unwrap_or(self.ns);
            return self.resolve_global(base, ns);
        }
        self.resolve_global(name, self.ns)
    }

    /// [`Self::resolve`] at the top level of namespace `ns`: special
    /// forms, globals, primitives.
    fn resolve_global(&self, name: &str, ns: usize) -> Resolved {
        if SPECIAL_FORMS.contains(&name) {
            return Resolved::Special;
        }
        if let Some(g) = self.namespace_global(name, ns) {
            return Resolved::Global(g);
        }
        if let Some(p) = self.imported_primitive(name, ns) {
            return Resolved::Prim(p);
        }
        if let Some(g) = self.global_index.get(name) {
            if self.global_visible(*g, ns) {
                return Resolved::Global(*g);
            }
        }
        // The runtime's `%` internals are reached only by the expander's
        // own output (`PrimCall`s and `#%name` datums), never by a program.
        if let Some(internal) = name.strip_prefix(INTERNAL_PREFIX) {
            return match omni_runtime::prims::lookup(internal) {
                Some(p) => Resolved::Prim(p),
                None => Resolved::Unbound,
            };
        }
        // The names the prelude imports (the standard modules') are seen
        // by every namespace that does not define or import them itself.
        if ns != import::PRELUDE_NS {
            if let Some(g) = self.namespace_global(name, import::PRELUDE_NS) {
                return Resolved::Global(g);
            }
        }
        match omni_runtime::prims::lookup(name) {
            Some(p) if !name.starts_with('%') => Resolved::Prim(p),
            _ => Resolved::Unbound,
        }
    }

    /// The global `name` names in namespace `ns`: its own
    /// definition or an import.
    fn namespace_global(&self, name: &str, ns: usize) -> Option<GlobalId> {
        let ns = self.namespaces.get(ns)?;
        let key = match ns.defined.get(name) {
            Some((key, _)) => key,
            None => &ns.imported.get(name)?.key,
        };
        self.global_index.get(key).copied()
    }

    /// The primitive `name` stands for in namespace `ns` when it is
    /// imported from a standard module that exports the primitive (the
    /// `strings` module's `format`, as `format` or `s/format`).
    fn imported_primitive(
        &self,
        name: &str,
        ns: usize,
    ) -> Option<&'static omni_runtime::prims::PrimDesc> {
        let imported = self.namespaces.get(ns)?.imported.get(name)?;
        let primitive = imported.key.strip_prefix("std/")?;
        if primitive.starts_with('%') || self.global_index.contains_key(&imported.key) {
            return None;
        }
        omni_runtime::prims::lookup(primitive)
    }

    /// The name `g` was declared by: the key of the struct and generic
    /// tables (see `renamed_globals`).
    pub(crate) fn global_key(&self, g: GlobalId) -> &str {
        match self.renamed_globals.get(&g) {
            Some(key) => key,
            None => &self.prog.globals[g.0 as usize].name,
        }
    }

    /// Whether a global found by its own name is visible from namespace
    /// `ns`: the global namespace sees its own globals and the
    /// prelude's, a module only the prelude's (its own definitions and
    /// imports are found by [`Self::namespace_global`]), the prelude only
    /// its own. The prelude's `%` internals are the prelude's alone.
    fn global_visible(&self, g: GlobalId, ns: usize) -> bool {
        let Some(&owner) = self.global_ns.get(&g) else {
            return true;
        };
        let internal = self.internal_globals.contains(&g);
        match ns {
            import::PRELUDE_NS => owner == import::PRELUDE_NS || self.in_prelude,
            import::GLOBAL_NS => {
                owner == import::GLOBAL_NS || (owner == import::PRELUDE_NS && !internal)
            }
            _ => owner == import::PRELUDE_NS && !internal,
        }
    }

    /// Give each top-level definition its global name (see `import.rs`):
    /// a module's `helper` becomes `geometry/helper`, a program's
    /// definition of a prelude name `reverse#0`; record them in their
    /// namespaces, then report a name both defined and imported, and
    /// exports the module does not define.
    fn name_definitions(&mut self, forms: &mut [(Datum, usize)]) {
        let prelude_names: HashSet<String> = forms
            .iter()
            .filter(|(_, ns)| *ns == import::PRELUDE_NS)
            .filter_map(|(d, _)| {
                shape::recognise(d)
                    .ok()?
                    .defined_name()
                    .map(|(n, _)| n.to_string())
            })
            .collect();
        for (d, ns) in forms.iter_mut() {
            let Some((name, span)) = shape::recognise(d)
                .ok()
                .and_then(|f| f.defined_name().map(|(n, s)| (n.to_string(), s)))
            else {
                continue;
            };
            // `std/map`, `geometry/helper`: the spelling of a module's
            // global, which the program's definition would replace.
            let qualifier = name.split_once('/').map(|(q, _)| q);
            if *ns == import::GLOBAL_NS
                && qualifier.is_some_and(|q| self.namespaces.iter().any(|n| n.prefix == q))
            {
                self.errors.push(
                    ExpandError::new(
                        format!("cannot define `{name}`: a name `MODULE/name` is a module's"),
                        span,
                        "a module-qualified name",
                    )
                    .with_note("choose a name without the module's prefix"),
                );
                continue;
            }
            let key = match *ns {
                import::PRELUDE_NS => continue,
                import::GLOBAL_NS if prelude_names.contains(&name) => format!("{name}#0"),
                import::GLOBAL_NS => name.clone(),
                m => format!("{}/{name}", self.namespaces[m].prefix),
            };
            if key != name {
                import::rename_symbol(d, span, &key);
            }
            self.namespaces[*ns]
                .defined
                .entry(name)
                .or_insert((key, span));
        }
        for (index, ns) in self.namespaces.iter().enumerate() {
            let mut clashes: Vec<_> = ns
                .defined
                .iter()
                .filter_map(|(name, (_, at))| Some((name, *at, ns.imported.get(name)?)))
                .collect();
            clashes.sort_by_key(|(_, at, _)| (at.file, at.start));
            for (name, at, imported) in clashes {
                let from = &self.namespaces[imported.module].name;
                self.errors.push(
                    ExpandError::new(
                        format!("`{name}` is defined here and also imported from module {from}"),
                        at,
                        "defined here",
                    )
                    .with_secondary(imported.span, format!("`{name}` imported here"))
                    .with_note(format!(
                        "rename the definition, or import module {from} with `:as` or `:only`"
                    )),
                );
            }
            for (name, at) in &ns.exports {
                // A standard module may export primitives.
                let primitive = || {
                    ns.prefix == "std"
                        && !name.starts_with('%')
                        && omni_runtime::prims::lookup(name).is_some()
                };
                if !ns.defined.contains_key(name)
                    && !self.macros.defines(index, name)
                    && !primitive()
                {
                    self.errors.push(ExpandError::new(
                        format!("module {} exports `{name}` but does not define it", ns.name),
                        *at,
                        "not defined in the module",
                    ));
                }
            }
        }
    }

    /// "unbound name `name`", with "did you mean `x`?" when a name in
    /// scope, a global, a primitive or a special form is a near miss.
    pub(crate) fn unbound(&self, name: &str, span: Span, label: &str) -> ExpandError {
        // A name a macro introduced is reported as the template spells it.
        let name = macros::base_name(name);
        if let Some(e) = self.private_name(name, span) {
            return e;
        }
        let err = ExpandError::new(format!("unbound name `{name}`"), span, label);
        if let Some(m) = self.macros.get(name, self.ns) {
            if m.span.file == span.file && m.span.start > span.start {
                return err.with_secondary(m.span, "the macro is defined here").with_note(
                    format!("a macro must be defined before its first use: move the definition of `{name}` up"),
                );
            }
        }
        if self.macros.is_macro(name, self.ns) {
            return err.with_note(format!(
                "`{name}` is a macro: it can only be used as `({name} ...)`"
            ));
        }
        match self.nearest_name(name) {
            Some(near) => err.with_note(format!("did you mean `{near}`?")),
            None => err,
        }
    }

    /// `g/helper` where `g` names an imported module: "private to module
    /// ..." or "module ... has no ..."; `helper` that only an imported
    /// module defines: "unbound", noting it is private there.
    fn private_name(&self, name: &str, span: Span) -> Option<ExpandError> {
        let ns = self.namespaces.get(self.ns)?;
        if let Some((q, x)) = name.rsplit_once('/') {
            let module = *ns.modules.get(q)?;
            let m = &self.namespaces[module];
            let exports: Vec<&str> = m.exports.iter().map(|(e, _)| e.as_str()).collect();
            let (message, label) = if exports.contains(&x) {
                // Exported, but not bound under this qualifier (a plain
                // import binds `x`, `:as q` binds `q/x`).
                (
                    format!("`{name}` is not imported here"),
                    "not imported under this name",
                )
            } else if m.defined.contains_key(x) || self.macros.defines(module, x) {
                (
                    format!("`{x}` is private to module {}", m.name),
                    "not exported",
                )
            } else {
                (format!("module {} has no `{x}`", m.name), "not exported")
            };
            return Some(ExpandError::new(message, span, label).with_note(format!(
                "module {} exports: {}",
                m.name,
                exports.join(" ")
            )));
        }
        let mut owners: Vec<(&str, bool)> = ns
            .modules
            .values()
            .filter_map(|&index| {
                let m = &self.namespaces[index];
                if m.exports.iter().any(|(e, _)| e == name) {
                    Some((m.name.as_str(), true))
                } else {
                    (m.defined.contains_key(name) || self.macros.defines(index, name))
                        .then_some((m.name.as_str(), false))
                }
            })
            .collect();
        owners.sort();
        owners.dedup();
        let (owner, exported) = owners.first()?;
        let note = if *exported {
            format!("module {owner} exports `{name}`, but the imports here leave it out (`:only`, or `:as` for a qualified name)")
        } else {
            format!("`{name}` is private to module {owner}")
        };
        Some(
            ExpandError::new(format!("unbound name `{name}`"), span, "not defined here")
                .with_note(note),
        )
    }

    /// The visible name closest to `name` by edit distance, if it is close
    /// enough to be a typo (one edit per three chars; a name shorter than
    /// three chars is too short to guess from).
    fn nearest_name(&self, name: &str) -> Option<String> {
        let len = name.chars().count();
        if !(3..=MAX_QUOTED_NAME).contains(&len) {
            return None;
        }
        let limit = len / 3;
        // Ties go to the nearest binding: locals (innermost first), then
        // globals, primitives and special forms, then the name's order.
        let locals = self
            .scopes
            .iter()
            .rev()
            .flat_map(|s| s.keys().map(|k| k.as_str()))
            .filter(|k| macros::unmark(k).is_none());
        let globals = self
            .global_index
            .iter()
            .filter(|(n, g)| {
                !n.contains('%') && !n.contains('#') && self.global_visible(**g, self.ns)
            })
            .map(|(n, _)| n.as_str())
            .chain(
                self.namespaces[import::PRELUDE_NS]
                    .imported
                    .keys()
                    .map(|n| n.as_str()),
            );
        let prims = omni_runtime::prims::PRIMS
            .iter()
            .map(|p| p.name)
            .filter(|n| !n.starts_with('%'));
        let ranked = locals
            .enumerate()
            .chain(globals.map(|n| (usize::MAX - 2, n)))
            .chain(prims.map(|n| (usize::MAX - 1, n)))
            .chain(SPECIAL_FORMS.iter().map(|n| (usize::MAX, *n)));
        let mut best: Option<(usize, usize, &str)> = None;
        for (rank, cand) in ranked {
            if cand == name || cand.chars().count().abs_diff(len) > limit {
                continue;
            }
            let d = edit_distance(name, cand);
            if d <= limit && best.is_none_or(|b| (d, rank, cand) < b) {
                best = Some((d, rank, cand));
            }
        }
        best.map(|(_, _, n)| n.to_string())
    }

    /// A prelude global the expander's desugarings rely on.
    pub(crate) fn prelude_global(&self, name: &str, span: Span) -> Result<Expr> {
        // The prelude's own definitions (its `%` internals), then the
        // names it imports from the standard modules.
        let own = self
            .global_index
            .get(name)
            .copied()
            .filter(|g| self.global_ns.get(g) == Some(&import::PRELUDE_NS));
        match own.or_else(|| self.namespace_global(name, import::PRELUDE_NS)) {
            Some(g) => Ok(Expr::new(ExprKind::Global(g), span)),
            None => Err(ExpandError::new(
                format!("internal: the prelude does not define `{name}`"),
                span,
                "needed here",
            )),
        }
    }

    // ---- top level ----

    /// Forget the state of a form whose expansion failed half-way, so the
    /// next form starts clean.
    fn recover(&mut self) {
        self.scopes.clear();
        self.visible.clear();
        self.skip_param_checks = false;
    }

    /// The errors, in source order (the shapes of all forms are checked
    /// before any form is expanded, so they were found out of order).
    fn into_parts(mut self) -> (Program, Errors) {
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort_by_key(|e| (e.span.file, e.span.start));
        (self.prog, errors)
    }

    /// Argument counts of the calls of known functions (see
    /// [`known_functions`]): a wrong count is an error even in code that
    /// never runs, as in a statically typed language.
    fn check_known_calls(&mut self) {
        for (g, n, span, written) in std::mem::take(&mut self.calls_to_check) {
            let info = &self.prog.globals[g.0 as usize];
            let Some(arity) = self.known_functions.get(&g) else {
                continue;
            };
            if info.assigned || arity.accepts(n) {
                continue;
            }
            let name = written.as_deref().unwrap_or(&info.name);
            self.errors.push(ExpandError::new(
                format!(
                    "wrong number of arguments to `{name}`: it takes {}, this call passes {n}",
                    arity.describe()
                ),
                span,
                format!("`{name}` called with {n} here"),
            ));
        }
    }

    /// `(set! name v)` of global `g`: only a namespace's own globals may
    /// be assigned (a name a template introduced belongs to the macro's
    /// namespace). Assigning an imported name — or a standard one — would
    /// change it for every module that uses it, so it is an error naming
    /// where the name comes from.
    fn check_assignable(&self, g: GlobalId, target: &str, at: Span) -> Result<()> {
        let here = match macros::unmark(target) {
            Some(_) => self.macros.namespace_of(target).unwrap_or(self.ns),
            None => self.ns,
        };
        let Some(&owner) = self.global_ns.get(&g) else {
            return Ok(());
        };
        if owner == here {
            return Ok(());
        }
        let name = macros::base_name(target);
        let module = &self.namespaces[owner];
        let standard = module.prefix == "std";
        let from = if standard {
            format!("module {} of the standard library", module.name)
        } else {
            format!("module {}", module.name)
        };
        let mut e = ExpandError::new(
            format!("cannot assign `{name}`: it is imported from {from}"),
            at,
            "assigned here",
        )
        .with_note(if standard {
            format!("define your own `{name}` (it shadows the standard one in your code), or keep a changing value in a box")
        } else {
            "a module's variable is assigned by the module's own code: export a function that assigns it, or keep a changing value in a box".to_string()
        });
        match self.namespaces[here].imported.get(name) {
            Some(imported) if !standard => {
                e = e.with_secondary(imported.span, format!("`{name}` imported here"))
            }
            _ => {
                let written = name.rsplit_once('/').map_or(name, |(_, n)| n);
                if let Some((_, defined)) = module.defined.get(written) {
                    e = e.with_secondary(*defined, format!("`{written}` is defined here"));
                }
            }
        }
        Err(e)
    }

    /// Report (once) a binding named like a macro.
    fn macro_name_taken(&mut self, name: &str, span: Span, what: &str) {
        let name = macros::base_name(name);
        let message = format!("`{name}` is a macro: it cannot also name {what}");
        if !self
            .errors
            .iter()
            .any(|e| e.span == span && e.message == message)
        {
            self.errors.push(
                ExpandError::new(message, span, "named like a macro").with_note(
                    "a macro's name is reserved from its definition to the end of the program",
                ),
            );
        }
    }

    fn declare_toplevel(&mut self, form: &TopForm, in_prelude: bool) {
        let Some((name, name_span)) = form.defined_name() else {
            return;
        };
        // A global may not share the name of a macro of its namespace
        // (the standard library's globals may: their uses were expanded
        // before a program's macro existed).
        let written = match self.namespaces.get(self.ns) {
            Some(ns) if self.ns > import::PRELUDE_NS => name
                .strip_prefix(ns.prefix.as_str())
                .and_then(|n| n.strip_prefix('/'))
                .unwrap_or(name),
            _ => name,
        };
        if !in_prelude && self.macros.is_macro(written, self.ns) {
            self.macro_name_taken(written, name_span, "a global");
        }
        match self.global_index.get(name) {
            Some(g) => self.prog.globals[g.0 as usize].definitions += 1,
            None => {
                let g = GlobalId(self.prog.globals.len() as u32);
                // A program's definition of a prelude name is declared as
                // `name#0` (see `name_definitions`) but named `name`.
                let shown = match name.strip_suffix("#0") {
                    Some(base) if self.ns == import::GLOBAL_NS => {
                        self.renamed_globals.insert(g, name.to_string());
                        base
                    }
                    _ => name,
                };
                self.prog.globals.push(ast::GlobalInfo {
                    name: shown.to_string(),
                    definitions: 1,
                    assigned: false,
                });
                self.global_index.insert(name.to_string(), g);
                self.global_ns.insert(g, self.ns);
                if in_prelude && name.starts_with('%') {
                    self.internal_globals.insert(g);
                }
            }
        }
    }

    fn expand_toplevel(&mut self, d: &Datum, form: &TopForm) -> Result<Expr> {
        match form {
            TopForm::TypeDef(def) => self.expand_typedef(def, d.span),
            TopForm::Define { name, .. } | TopForm::Function { name, .. } => {
                let g = self.global_index[*name];
                let DatumKind::List(items) = &d.kind else {
                    unreachable!("a define is a list")
                };
                let init = self.expand_define_init(items, d.span)?;
                Ok(Expr::new(ExprKind::DefineGlobal(g, Box::new(init)), d.span))
            }
            TopForm::Expr => self.expand(d),
        }
    }

    // ---- expressions ----

    pub(crate) fn expand(&mut self, d: &Datum) -> Result<Expr> {
        let span = d.span;
        let lit = |l| Ok(Expr::new(ExprKind::Lit(l), span));
        match &d.kind {
            DatumKind::Int(n) if !omni_runtime::value::fits_int(*n) => Err(ExpandError::new(
                format!("integer literal {n} is out of range (Ints are 63-bit)"),
                span,
                "too large",
            )),
            DatumKind::Int(n) => lit(Literal::Int(*n)),
            DatumKind::Float(x) => lit(Literal::Float(*x)),
            DatumKind::Str(s) => lit(Literal::Str(s.clone())),
            DatumKind::Char(c) => lit(Literal::Char(*c)),
            DatumKind::Bool(b) => lit(Literal::Bool(*b)),
            DatumKind::Nothing => lit(Literal::Nothing),
            DatumKind::Sym(name) => self.expand_symbol(name, span),
            DatumKind::List(items) if items.is_empty() => lit(Literal::Nil),
            DatumKind::List(items) => self.expand_list(items, span),
            DatumKind::Slot(items) => {
                let xs = self.expand_all(items)?;
                Ok(Expr::new(ExprKind::MakeArray(xs), span))
            }
            DatumKind::Dict(items) => {
                if items.len() % 2 != 0 {
                    return Err(ExpandError::new(
                        "dict literal needs an even number of forms (keys and values alternate)",
                        span,
                        "odd number of forms",
                    ));
                }
                let xs = self.expand_all(items)?;
                Ok(Expr::new(ExprKind::MakeDict(xs), span))
            }
            DatumKind::Kind(_) => self.type_expr(d),
            DatumKind::Meta(m) => Err(ExpandError::new(
                format!("metadata `^:{m}` must come before a binding or a definition"),
                span,
                "misplaced metadata",
            )),
            DatumKind::Path(base, segs) => {
                let mut e = self.expand(base)?;
                for seg in segs {
                    let (key, kspan) = match seg {
                        crate::syntax::PathSeg::Field(name, s) => {
                            if std::ptr::eq(seg, &segs[0]) {
                                self.check_field_path(base, name, *s)?;
                            }
                            (
                                Expr::new(
                                    ExprKind::Quote(Datum::new(DatumKind::Sym(name.clone()), *s)),
                                    *s,
                                ),
                                *s,
                            )
                        }
                        crate::syntax::PathSeg::Index(i) => (self.expand(i)?, i.span),
                    };
                    let sp = span.to(kspan);
                    e = Expr::new(ExprKind::PrimCall("get".into(), vec![e, key]), sp);
                }
                Ok(e)
            }
        }
    }

    /// Expand each of `ds`. After an error the others are still expanded
    /// (their errors recorded), so the arguments of a call or the forms
    /// of a body are all checked; the first error is returned.
    pub(crate) fn expand_all(&mut self, ds: &[Datum]) -> Result<Vec<Expr>> {
        let depth = self.scopes.len();
        let mut first_error = None;
        let mut out = Vec::with_capacity(ds.len());
        for d in ds {
            match self.expand(d) {
                Ok(e) => out.push(e),
                Err(e) => {
                    self.truncate_scopes(depth);
                    match first_error {
                        None => first_error = Some(e),
                        Some(_) => self.errors.push(e),
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn expand_symbol(&mut self, name: &str, span: Span) -> Result<Expr> {
        match self.resolve(name) {
            Resolved::Local(l) => Ok(Expr::new(ExprKind::Local(l), span)),
            Resolved::Global(g) => Ok(Expr::new(ExprKind::Global(g), span)),
            Resolved::Prim(p) => Ok(Expr::new(ExprKind::PrimRef(p.name.to_string()), span)),
            Resolved::Special => Err(ExpandError::new(
                format!("`{name}` is a special form, not a value"),
                span,
                "used as a value here",
            )),
            Resolved::Unbound => match self.builtin_type_expr(name, span) {
                Some(t) => Ok(t),
                None => Err(self.unbound(name, span, "not defined anywhere")),
            },
        }
    }

    fn expand_list(&mut self, items: &[Datum], span: Span) -> Result<Expr> {
        let head = &items[0];
        let args = &items[1..];
        if let Some(name) = head.as_sym() {
            match self.resolve(name) {
                Resolved::Special => {
                    return self.expand_special(macros::base_name(name), head, args, span)
                }
                Resolved::Prim(p) => {
                    forms::check_prim_arity(p, args.len(), head.span)?;
                    let xs = self.expand_all(args)?;
                    if p.name == "spawn" {
                        self.check_spawn_thunk(&xs)?;
                    }
                    return Ok(Expr::new(ExprKind::PrimCall(p.name.to_string(), xs), span));
                }
                _ => {}
            }
        }
        if let Some(e) = self.expand_constructor(head, args, span)? {
            return Ok(e);
        }
        if let Some(e) = self.expand_generic_call(head, args, span)? {
            return Ok(e);
        }
        let callee = self.expand(head)?;
        match &callee.kind {
            ExprKind::Global(g) => {
                let written = head.as_sym().map(|h| macros::base_name(h).to_string());
                self.calls_to_check
                    .push((*g, args.len(), head.span, written))
            }
            ExprKind::Lit(lit) => return Err(call_of_literal(lit, head)),
            _ => {}
        }
        let xs = self.expand_all(args)?;
        Ok(Expr::new(ExprKind::Call(Box::new(callee), xs), span))
    }

    fn expand_special(
        &mut self,
        name: &str,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        if NOT_YET.contains(&name) {
            return Err(ExpandError::new(
                format!("`{name}` is not supported yet"),
                head.span,
                "not supported yet",
            ));
        }
        match name {
            "quote" => {
                shape::expect_args(name, args, 1, 1, head.span)?;
                shape::check_quoted(&args[0])?;
                Ok(Expr::new(ExprKind::Quote(macros::strip_marks(&args[0])), span))
            }
            "quasiquote" => {
                shape::expect_args(name, args, 1, 1, head.span)?;
                shape::check_quoted(&args[0])?;
                self.expand_quasi(&args[0], 1)
            }
            "unquote" | "unquote-splicing" => Err(ExpandError::new(
                format!("`{name}` outside of a quasiquote"),
                head.span,
                "not inside a quasiquote",
            )),
            "if" => {
                shape::expect_args(name, args, 2, 3, head.span)?;
                let c = self.expand(&args[0])?;
                let t = self.expand(&args[1])?;
                let e = match args.get(2) {
                    Some(d) => self.expand(d)?,
                    None => Expr::nothing(span),
                };
                Ok(Expr::new(
                    ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                    span,
                ))
            }
            "when" | "unless" => {
                shape::expect_args(name, args, 2, usize::MAX, head.span)?;
                let c = self.expand(&args[0])?;
                let body = self.expand_body(&args[1..], span)?;
                let (t, e) = if name == "when" {
                    (body, Expr::nothing(span))
                } else {
                    (Expr::nothing(span), body)
                };
                Ok(Expr::new(
                    ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                    span,
                ))
            }
            "cond" => self.expand_cond(args, span),
            "and" | "or" => self.expand_and_or(name == "and", args, span),
            "do" | "begin" => {
                if args.is_empty() {
                    return Ok(Expr::nothing(span));
                }
                self.expand_body(args, span)
            }
            "let" => self.expand_let(args, head.span, span),
            "try" => self.expand_try(head, args, span),
            "handle" => self.expand_handle(head, args, span),
            "perform" => self.expand_perform(head, args, span),
            "put!" => self.expand_put(head, args, span),
            "catch" => Err(ExpandError::new(
                "`catch` outside of a `try`",
                head.span,
                "not the last form of a `try`",
            )),
            "resume" => Err(ExpandError::new(
                "`resume` outside of an effect handler (name it in the clause: `(eff [payload resume] ...)`)",
                head.span,
                "no handler here",
            )),
            "match" => self.expand_match(args, head.span, span),
            "module" => Err(ExpandError::new(
                "`module` is only allowed at the top level of a file",
                head.span,
                "module inside an expression",
            )),
            "import" => Err(ExpandError::new(
                "`import` is only allowed at the top level of a file",
                head.span,
                "import inside an expression",
            )),
            "fn" | "λ" | "lambda" => {
                if let Some(e) = self.scheme_lambda_hint(name, args) {
                    return Err(e);
                }
                let lam = self.expand_lambda(None, args, head.span, span)?;
                Ok(Expr::new(ExprKind::Lambda(lam), span))
            }
            "define" => Err(ExpandError::new(
                "`define` is only allowed at the top level or at the start of a body",
                head.span,
                "definition in expression position",
            )
            .with_note("use `let` to bind a value inside an expression")),
            "set!" => {
                shape::expect_args(name, args, 2, 2, head.span)?;
                let Some(target) = args[0].as_sym() else {
                    return Err(ExpandError::new(
                        "`set!` needs a variable name",
                        args[0].span,
                        "not a variable",
                    ));
                };
                let value = Box::new(self.expand(&args[1])?);
                match self.resolve(target) {
                    Resolved::Local(l) => Ok(Expr::new(ExprKind::SetLocal(l, value), span)),
                    Resolved::Global(g) => {
                        self.check_assignable(g, target, args[0].span)?;
                        self.prog.globals[g.0 as usize].assigned = true;
                        Ok(Expr::new(ExprKind::SetGlobal(g, value), span))
                    }
                    Resolved::Prim(_) | Resolved::Special => Err(ExpandError::new(
                        format!("cannot `set!` the built-in `{target}`"),
                        args[0].span,
                        "built-in name",
                    )),
                    Resolved::Unbound => Err(self.unbound(
                        target,
                        args[0].span,
                        "`set!` of an undefined variable",
                    )),
                }
            }
            _ => unreachable!("special form {name}"),
        }
    }
}

/// Render a datum as source text (for dumps and messages; the lowering
/// names it this way).
pub fn datum_to_string(d: &Datum) -> String {
    d.to_string()
}

/// Read and expand `src` after the real prelude (for the unit tests of this
/// and later stages); also returns the source map.
#[cfg(test)]
pub(crate) fn expand_with_prelude(
    src: &str,
) -> (
    crate::syntax::SourceMap,
    std::result::Result<Program, Errors>,
) {
    let mut sm = crate::syntax::SourceMap::default();
    let pf = sm.add(
        "std/prelude.omni",
        include_str!("../../../std/prelude.omni"),
    );
    let f = sm.add("t.omni", src);
    let prelude = crate::syntax::read_program(sm.source(pf), pf).expect("prelude reads");
    let prog = crate::syntax::read_program(sm.source(f), f).expect("program reads");
    // The standard modules, each read once; no other import.
    let mut loaded: HashMap<String, ImportedFile> = HashMap::new();
    let expanded = expand_program_with_imports(prelude, prog, &mut |path, span| {
        let Some(module) = path
            .strip_prefix(STD_PATH_PREFIX)
            .and_then(|p| p.strip_suffix(".omni"))
        else {
            return Err(ExpandError::new("no imports in this test", span, "import"));
        };
        if let Some(file) = loaded.get(module) {
            return Ok(file.clone());
        }
        let name = format!("std/{module}.omni");
        let file = sm.add(name.clone(), std_source(module).expect("a module"));
        let forms = crate::syntax::read_program(sm.source(file), file).expect("std reads");
        let imported = ImportedFile {
            file,
            name,
            forms,
            std: true,
        };
        loaded.insert(module.to_string(), imported.clone());
        Ok(imported)
    });
    (sm, expanded)
}

#[cfg(test)]
mod tests {
    /// Expand `src` after the real prelude; the first error.
    fn expand(src: &str) -> super::Result<super::Program> {
        super::expand_with_prelude(src)
            .1
            .map_err(|errors| errors.into_iter().next().expect("an error"))
    }

    /// Expand `src` after the real prelude; every error.
    fn expand_errors(src: &str) -> super::Errors {
        super::expand_with_prelude(src).1.expect_err(src)
    }

    #[test]
    fn no_runtime_internal_resolves_in_a_program() {
        let internals: Vec<&str> = omni_runtime::prims::PRIMS
            .iter()
            .map(|p| p.name)
            .filter(|n| n.starts_with('%'))
            .collect();
        assert!(internals.len() > 10, "{internals:?}");
        for name in internals {
            for src in [format!("({name} 1 2 3)"), format!("(list {name})")] {
                let e = expand(&src).expect_err(&src);
                assert_eq!(e.message, format!("unbound name `{name}`"), "{src}");
            }
        }
        // The prelude's own `%` helpers are internals too.
        let e = expand("(%seq-ref (list 1) 0)").expect_err("a prelude internal");
        assert_eq!(e.message, "unbound name `%seq-ref`");
    }

    /// Every error of the program, in source order, as (line of the
    /// span's start, message).
    fn errors(src: &str) -> Vec<(u32, String)> {
        let (sm, result) = super::expand_with_prelude(src);
        result
            .expect_err(src)
            .into_iter()
            .map(|e| (sm.line_col(e.span).0, e.message))
            .collect()
    }

    #[test]
    fn every_top_level_error_is_reported_in_order() {
        let errs = errors("(display a1)\n(display 1)\n(if)\n(define (f x) x)\n(f 1)\n(display b2)");
        let lines: Vec<u32> = errs.iter().map(|e| e.0).collect();
        assert_eq!(lines, [1, 3, 4, 6], "{errs:?}");
        assert_eq!(errs[0].1, "unbound name `a1`");
        assert_eq!(errs[3].1, "unbound name `b2`");
    }

    #[test]
    fn errors_in_arguments_and_bodies_are_all_reported() {
        let errs = errors("(define f [x]\n (list a1 (let [y 1] b2))\n c3)");
        let msgs: Vec<&str> = errs.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "unbound name `a1`",
                "unbound name `b2`",
                "unbound name `c3`"
            ]
        );
    }

    #[test]
    fn near_misses_get_did_you_mean() {
        let e = expand_errors("(define total 1) (let [count 2] (+ totl cont))");
        assert_eq!(e[0].notes, ["did you mean `total`?"]);
        assert_eq!(e[1].notes, ["did you mean `count`?"]);
        // Built-in functions and special forms are candidates too; short
        // or far names get no guess.
        let e = expand("(revrse (list 1))").expect_err("typo");
        assert_eq!(e.notes, ["did you mean `reverse`?"]);
        let e = expand("(lamda [x] x)").expect_err("typo");
        assert_eq!(e.notes, ["did you mean `lambda`?"]);
        assert!(expand("(display zq)")
            .expect_err("unbound")
            .notes
            .is_empty());
        assert!(expand("(display qwertyuiop)")
            .expect_err("unbound")
            .notes
            .is_empty());
    }

    #[test]
    fn edit_distance_counts_chars() {
        assert_eq!(super::edit_distance("lenght", "length"), 2);
        assert_eq!(super::edit_distance("λx", "λy"), 1);
        assert_eq!(super::edit_distance("", "abc"), 3);
        assert_eq!(super::edit_distance("same", "same"), 0);
    }

    #[test]
    fn arity_of_known_functions_is_checked() {
        let e = expand("(define f [a b] a) (when false (f 1))").expect_err("arity");
        assert_eq!(
            e.message,
            "wrong number of arguments to `f`: it takes 2 arguments, this call passes 1"
        );
        // Rest parameters, a later `set!`, a value define, a local that
        // shadows the name: no compile-time check or a passing one.
        for ok in [
            "(define f [a .. r] a) (f 1) (f 1 2 3)",
            "(define f [a] a) (f 1 2) (set! f (fn [a b] a))",
            "(define f (fn [a] a)) (f 1 2)",
            "(define f [a] a) (let [f (fn [a b] a)] (f 1 2))",
            "(define g [x] x) (define g [x y] y) (g 1) (g 1 2)",
        ] {
            assert!(expand(ok).is_ok(), "{ok}");
        }
        let e = expand("(define g [x] x) (define g [x y] y) (g)").expect_err("generic");
        assert_eq!(e.message, "no method of `g` takes 0 arguments");
    }

    #[test]
    fn literals_are_not_callable() {
        for (src, what) in [
            ("(1 2)", "an integer"),
            ("(\"f\" 1)", "a string"),
            ("(2.5)", "a float"),
            ("(#\\a 1)", "a character"),
            ("(true)", "a boolean"),
        ] {
            let e = expand(src).expect_err(src);
            assert!(
                e.message.starts_with(&format!("cannot call {what}")),
                "{src}: {}",
                e.message
            );
        }
    }

    #[test]
    fn scheme_and_clojure_shapes_get_hints() {
        let hint = |src: &str| {
            let mut e = expand_errors(src);
            assert_eq!(e.len(), 1, "{src}: one error, got {e:?}");
            let e = e.pop().expect("one error");
            (e.message, e.notes)
        };
        let (m, n) = hint("(lambda (x y) (+ x y))");
        assert_eq!(
            m,
            "the parameters of `lambda` go in a slot `[x y]`, not a list"
        );
        assert_eq!(n, ["write `(fn [x y] body...)`"]);
        let (m, n) = hint("(let ((x 1)) x)");
        assert_eq!(
            m,
            "`let` bindings are slots `[name value]`, not a list of lists"
        );
        assert_eq!(n, ["write `(let [x 1] body...)`"]);
        let (m, n) = hint("(let [a 1 b (+ 1 2)] a)");
        assert_eq!(m, "`let` takes one slot `[name value]` per binding");
        assert_eq!(n, ["write `(let [a 1] [b (+ 1 2)] body...)`"]);
        let (m, n) = hint("(define (f x) x) (f 1)");
        assert_eq!(m, "malformed `define`: expected a name after `define`");
        assert!(
            n[0].starts_with("a function is defined as `(define f ["),
            "{n:?}"
        );
        // The same shapes with bound names are valid programs.
        assert!(expand("(define x 1) (fn (x) x)").is_ok());
        assert!(expand("(define x 1) (define a 2) (let [a 1 x 2] a)").is_ok());
    }

    #[test]
    fn struct_fields_of_annotated_parameters_are_checked() {
        let defs = "(define {struct P} [x] [y]) ";
        let e = expand(&format!("{defs}(define f [p {{P}}] p.z)")).expect_err("no field z");
        assert_eq!(e.message, "struct `P` has no field `z`");
        for ok in [
            "(define f [p {P}] (+ p.x p.y))",
            // Not known: unannotated, reassigned, or shadowed by a local.
            "(define f [p] p.z)",
            "(define f [p {P}] (set! p #{:z 1}) p.z)",
            "(define f [p {P}] (let [p #{:z 1}] p.z))",
        ] {
            let src = format!("{defs}{ok}");
            assert!(expand(&src).is_ok(), "{src}");
        }
    }

    #[test]
    fn names_a_macro_introduced_resolve_hygienically() {
        // A free template name skips the use site's locals: `list` is the
        // built-in even where the user binds `list` to a number.
        let src = "(define [syntax m] [(m x) (list x)]) (let [list 5] (m list))";
        let prog = expand(src).expect("expands");
        let printed = prog.to_string();
        assert!(printed.contains("list"), "{printed}");
        // A template's free name that is not defined is reported as the
        // template spells it; a local of a macro's name shadows it.
        let e = expand("(define [syntax m] [(m) nowhere]) (m)").expect_err("unbound");
        assert_eq!(e.message, "unbound name `nowhere`");
        let prog = expand("(define [syntax m] [(m) 1]) (let [m (fn [] 2)] (m))").expect("a local");
        // The call is of the local (`m#N`), not an expansion to 1.
        let printed = prog.to_string();
        let last = printed.lines().last().expect("the program's form");
        assert!(last.contains("(m#") && !last.contains(" 1"), "{last}");
        // A template's internal name stays internal.
        let e =
            expand("(define [syntax m] [(m) (%seq-ref (list 1) 0)]) (m)").expect_err("internal");
        assert_eq!(e.message, "unbound name `%seq-ref`");
    }

    #[test]
    fn generated_code_still_reaches_internals() {
        // Annotations, dispatch, effects and `match` all expand to `%` calls.
        let src = "(define f [x {Int}] {Int} x) (define g [x] 1) (define g [x y] 2)
                   (match (list 1 2) [a b] a _ 0) (try (f 1) (catch e e))";
        assert!(expand(src).is_ok());
    }
}
