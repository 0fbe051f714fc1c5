//! The front half of the pipeline shared by `run`, `build` and `check`:
//! read the prelude and the program, expand, lower, run CTRR, printing the
//! requested dumps on the way. Stage errors become rendered diagnostics.

use super::{Dumps, Fatal};
use crate::codegen::CompiledProgram;
use crate::diag::timing;
use crate::diag::{expand_diagnostics, render_all, Diagnostic, SourceMap};
use crate::ir::verify::{verify, Stage};
use crate::syntax::{Datum, FileId, Span};
use crate::{ctrr, expand, ir, syntax};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Check the IR invariants (`ir/verify.rs`) in debug builds and tests: a
/// violation is a compiler bug, caught where it is made rather than as a
/// codegen error or a crash of the compiled program.
fn check_ir(program: &ir::Program, stage: Stage) {
    if cfg!(any(debug_assertions, test)) {
        if let Err(errors) = verify(program, stage) {
            panic!("malformed IR after {stage:?}:\n{}", errors.join("\n"));
        }
    }
}

/// The standard prelude, compiled in front of every program.
pub(crate) const PRELUDE: &str = include_str!("../../../std/prelude.omni");
pub(crate) const PRELUDE_NAME: &str = expand::PRELUDE_NAME;

/// The result of the front end: the program's IR after CTRR.
pub(crate) struct FrontEnd {
    pub program: ir::Program,
}

/// What the front end does with the expanded AST once lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leftovers {
    /// Free it before returning (`omnic run`, the REPL, tests).
    DropHere,
    /// A large program's is freed by [`super::drop_in_background`] (for a
    /// command that runs nothing after compiling).
    DropInBackground,
}

pub(crate) fn flush_stdout() {
    let _ = std::io::stdout().flush();
}

/// Print a dump to stdout. A closed pipe (`omnic run --dump-ir f | head`)
/// is not an error of the compiler, so write failures are ignored rather
/// than panicking like `println!`.
pub(crate) fn print_dump(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// The text of a source file; when it is not valid UTF-8, a lossy
/// decoding (the bytes before the first bad one are unchanged, so offsets
/// up to it hold) and the offset of that byte.
pub(super) fn decode_source(bytes: Vec<u8>) -> (String, Option<usize>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
        }
    }
}

/// The diagnostic for a file that is not UTF-8, pointing at the first bad
/// byte (shown as U+FFFD, three bytes in the decoded text).
pub(super) fn invalid_utf8(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::error(
        "source files must be UTF-8: invalid byte sequence",
        Span::new(file, at, at + '\u{FFFD}'.len_utf8()),
        "this byte is not valid UTF-8",
    )
}

/// Read a source file, or fail with `error: cannot read FILE: reason`.
pub(crate) fn read_source(path: &Path) -> Result<String, Fatal> {
    std::fs::read_to_string(path)
        .map_err(|e| Fatal(format!("error: cannot read {}: {e}\n", path.display())))
}

fn render(diag: Diagnostic, sources: &SourceMap) -> Fatal {
    Fatal(diag.render(sources))
}

/// Run every stage up to and including CTRR on `path`.
pub(crate) fn front_end(path: &Path, dumps: Dumps) -> Result<FrontEnd, Fatal> {
    super::on_compiler_stack(|| front_end_here(path, dumps, Leftovers::DropHere))
}

/// [`front_end`] on the calling thread's stack.
pub(crate) fn front_end_here(
    path: &Path,
    dumps: Dumps,
    leftovers: Leftovers,
) -> Result<FrontEnd, Fatal> {
    let bytes = std::fs::read(path)
        .map_err(|e| Fatal(format!("error: cannot read {}: {e}\n", path.display())))?;
    let mut sources = SourceMap::default();
    let prelude_file = sources.add(PRELUDE_NAME, PRELUDE);
    let (source, bad_utf8) = decode_source(bytes);
    let program_file = sources.add(path.display().to_string(), source);
    if let Some(at) = bad_utf8 {
        return Err(render(invalid_utf8(program_file, at), &sources));
    }

    let read_start = std::time::Instant::now();
    let prelude = syntax::read_program(sources.source(prelude_file), prelude_file)
        .map_err(|e| render(Diagnostic::from(e), &sources))?;
    let program =
        syntax::read_program_all(sources.source(program_file), program_file).map_err(|errors| {
            let diags: Vec<Diagnostic> = errors.into_iter().map(Diagnostic::from).collect();
            Fatal(render_all(&diags, &sources))
        })?;
    timing::report("read", read_start.elapsed());

    let mut imports = ImportCache::new(path, program_file);
    let ast = timing::time("expand", || {
        expand::expand_program_keeping(
            prelude,
            program,
            &mut |p, at| imports.load(&mut sources, p, at),
            dumps.dump_expanded,
        )
    });
    let ast = ast.map_err(|e| Fatal(render_all(&expand_diagnostics(e), &sources)))?;
    if dumps.dump_expanded {
        let mut text = String::new();
        for d in &ast.expanded {
            text.push_str(&d.to_string());
            text.push('\n');
        }
        print_dump(&text);
    }
    if dumps.dump_ast {
        print_dump(&ast.to_string());
    }

    let mut program = timing::time("lower", || ir::lower::lower_program(&ast, &sources));
    check_ir(&program, Stage::Lowered);
    if inlining_enabled(dumps) {
        timing::time("inline", || ir::inline::inline_program(&mut program));
        check_ir(&program, Stage::Lowered);
    }
    if dumps.dump_ir {
        print_dump(&program.to_string());
    }
    // Allocations nothing reads (a `let`-bound `fn` whose calls were all
    // inlined): no region is made for them and no code for the closure.
    timing::time("dead allocations", || {
        ir::dead_defs::drop_dead_allocations(&mut program)
    });
    // `+ - *` of two Ints (literals, Int parameters of functions only
    // called directly) makes no Float: no allocation site for CTRR to
    // place (a loop counter no longer makes a carry loop).
    timing::time("int arithmetic", || {
        ir::int_params::drop_int_arithmetic_sites(&mut program)
    });
    check_ir(&program, Stage::Lowered);
    let report = timing::time("ctrr", || ctrr::run(&mut program));
    check_ir(&program, Stage::Placed);
    if dumps.dump_ctrr {
        print_dump(&ctrr::dump(&program, &report, false));
    }
    // A whole program: a top-level function definition whose global no
    // one reads is not run, and code generation leaves out what only it
    // held (the REPL has its own front end: a later form may read any
    // global).
    timing::time("unread definitions", || {
        ir::dead_defs::drop_unread_definitions(&mut program)
    });
    if leftovers == Leftovers::DropInBackground
        && program.functions.len() >= super::MIN_FUNCTIONS_TO_DROP_IN_BACKGROUND
    {
        super::drop_in_background(ast);
    }
    Ok(FrontEnd { program })
}

/// Small known functions are inlined unless `--no-inline` or
/// `OMNI_NO_INLINE=1` (anything but empty or `0`) turns it off. (The REPL
/// does not inline: a later form may redefine any function.)
fn inlining_enabled(dumps: Dumps) -> bool {
    let off_by_env = std::env::var_os("OMNI_NO_INLINE").is_some_and(|v| !v.is_empty() && v != "0");
    !dumps.no_inline && !off_by_env
}

pub(crate) fn print_clif(compiled: &CompiledProgram, dumps: Dumps) {
    if dumps.dump_clif {
        print_dump(&compiled.clif);
    }
}

/// The files `(import "path")` loaded, by canonical path, so that every
/// import of one file gets the same [`FileId`] (the expander loads each file
/// once and detects cycles by id). Paths are searched by [`search_path`].
pub(crate) struct ImportCache {
    files: HashMap<PathBuf, (FileId, Vec<Datum>)>,
}

impl ImportCache {
    pub(crate) fn new(main: &Path, main_file: FileId) -> ImportCache {
        let mut files = HashMap::new();
        if let Ok(canon) = std::fs::canonicalize(main) {
            // The main program's forms are never spliced again: importing
            // it from an imported file is a cycle.
            files.insert(canon, (main_file, Vec::new()));
        }
        ImportCache { files }
    }

    pub(crate) fn load(
        &mut self,
        sources: &mut SourceMap,
        rel: &str,
        at: Span,
    ) -> Result<expand::ImportedFile, expand::ExpandError> {
        if let Some(module) = rel
            .strip_prefix(expand::STD_PATH_PREFIX)
            .and_then(|r| r.strip_suffix(".omni"))
            .filter(|m| expand::std_source(m).is_some())
        {
            return self.load_std(sources, module);
        }
        let importer = Path::new(sources.name(at.file));
        let target = search_path(importer, rel)
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| importer.parent().unwrap_or(Path::new("")).join(rel));
        let name = normalize(&target).display().to_string();
        let fail = |e: std::io::Error| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            };
            expand::ExpandError::new(
                format!("cannot import \"{rel}\": {why} ({name})"),
                at,
                "imported here",
            )
        };
        let canon = std::fs::canonicalize(&target).map_err(fail)?;
        // `(import "lists.omni")` found in the installed `std/` is the
        // standard module `lists` (one copy, the one omnic holds).
        if let Some(module) = installed_std_module(&canon) {
            return self.load_std(sources, module);
        }
        if let Some((file, forms)) = self.files.get(&canon) {
            return Ok(expand::ImportedFile {
                file: *file,
                name: sources.name(*file).to_string(),
                forms: forms.clone(),
                std: false,
            });
        }
        let (text, bad_utf8) = decode_source(std::fs::read(&canon).map_err(fail)?);
        let file = sources.add(name.clone(), text);
        if let Some(bad) = bad_utf8 {
            let d = invalid_utf8(file, bad);
            return Err(expand::ExpandError::new(d.message, d.span, d.label));
        }
        let forms = syntax::read_program(sources.source(file), file)
            .map_err(|e| expand::ExpandError::new(e.message, e.span, e.label))?;
        self.files.insert(canon, (file, forms.clone()));
        Ok(expand::ImportedFile {
            file,
            name,
            forms,
            std: false,
        })
    }

    /// Standard module `module` (`lists`), from the text omnic holds.
    fn load_std(
        &mut self,
        sources: &mut SourceMap,
        module: &str,
    ) -> Result<expand::ImportedFile, expand::ExpandError> {
        let key = PathBuf::from(format!("{}{module}", expand::STD_PATH_PREFIX));
        // Only the file is kept (`import_std` reads its forms at each import).
        let mut known = self.files.get(&key).map(|(file, _)| *file);
        let imported = expand::import_std(sources, module, &mut known)?;
        self.files.entry(key).or_insert((imported.file, Vec::new()));
        Ok(imported)
    }
}

/// The standard module whose installed file `canon` (a canonical path) is.
fn installed_std_module(canon: &Path) -> Option<&'static str> {
    let stem = canon.file_stem()?.to_str()?;
    let (module, _) = expand::STD_MODULES.iter().find(|(m, _)| *m == stem)?;
    if canon.extension()? != "omni" {
        return None;
    }
    let dir = canon.parent()?;
    installed_std_dirs()
        .iter()
        .any(|d| std::fs::canonicalize(d).is_ok_and(|d| d == dir))
        .then_some(*module)
}

/// The installed `std/` directories (see [`search_path`]).
fn installed_std_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(std_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("std")))
    {
        dirs.push(std_dir);
    }
    dirs.push(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../std")).to_path_buf());
    dirs
}

impl crate::lsp::ImportLoad for ImportCache {
    fn load(
        &mut self,
        sources: &mut SourceMap,
        rel: &str,
        at: Span,
    ) -> Result<expand::ImportedFile, expand::ExpandError> {
        ImportCache::load(self, sources, rel, at)
    }
}

/// What the language server needs from the driver: the prelude (and its
/// file, when the installed `std/` has it, for go-to-definition) and the
/// import cache.
pub(super) fn lsp_host() -> crate::lsp::Host {
    let prelude_path = search_path(Path::new(""), PRELUDE_NAME.trim_start_matches("std/"))
        .into_iter()
        .skip(1)
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok());
    crate::lsp::Host {
        prelude_name: PRELUDE_NAME,
        prelude_text: PRELUDE,
        prelude_path,
        new_imports: |main, file| Box::new(ImportCache::new(main, file)),
    }
}

/// Where `(import "rel")` looks, in order: beside the importing file, in
/// each directory of `OMNI_PATH` (colon-separated), then in the installed
/// `std/` (the repository's `std/` beside the `omnic` binary's
/// `target/<profile>/`, else the one this compiler was built from).
fn search_path(importer: &Path, rel: &str) -> Vec<PathBuf> {
    let mut dirs = vec![importer.parent().unwrap_or(Path::new("")).to_path_buf()];
    if Path::new(rel).is_absolute() {
        return vec![PathBuf::from(rel)];
    }
    if let Some(path) = std::env::var_os("OMNI_PATH") {
        dirs.extend(std::env::split_paths(&path).filter(|d| !d.as_os_str().is_empty()));
    }
    dirs.extend(installed_std_dirs());
    dirs.into_iter().map(|d| d.join(rel)).collect()
}

/// `a/./b/../c` → `a/c` (lexically; a leading `..` stays).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every end-to-end case program, CTRR golden, churn program, example
    /// and benchmark that compiles gives IR that verifies after `lower` and
    /// after `ctrr` (`front_end_here` checks both under `cfg(test)`, and
    /// `ctrr::scopes` checks every scope region's exits; the result is
    /// checked once more here).
    #[test]
    fn case_programs_verify() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut checked = 0;
        let benches: Vec<String> = std::fs::read_dir(root.join("benches/programs"))
            .unwrap()
            .map(|e| {
                format!(
                    "benches/programs/{}",
                    e.unwrap().file_name().to_string_lossy()
                )
            })
            .collect();
        let dirs = ["tests/cases", "tests/ctrr", "tests/churn", "examples"];
        for dir in dirs
            .iter()
            .copied()
            .chain(benches.iter().map(|s| s.as_str()))
        {
            let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "omni"))
                .collect();
            files.sort();
            for file in files {
                match front_end(&file, Dumps::default()) {
                    Ok(front) => {
                        if let Err(errors) = verify(&front.program, Stage::Placed) {
                            panic!("{}: {}", file.display(), errors.join("\n"));
                        }
                        checked += 1;
                    }
                    // A panic on the compiler thread (a failed check) comes
                    // back as this error; a compile error of an `err-*`
                    // case is fine.
                    Err(Fatal(e)) => assert!(
                        !e.contains("internal compiler error"),
                        "{}: {e}",
                        file.display()
                    ),
                }
            }
        }
        assert!(checked > 50, "only {checked} case programs compiled");
    }
}
