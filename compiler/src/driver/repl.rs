//! `omnic repl`: the interactive session.
//!
//! Reading: with a terminal, lines come from `rustyline` (line editing,
//! history in `~/.omnic_history`) with the prompt `omni> ` and the
//! continuation prompt `  ... `; otherwise (piped stdin, as the tests do)
//! plain lines with no prompts. A form is complete when its brackets
//! balance ([`balance`]: strings, characters and comments respected); one
//! input may hold several forms, evaluated in order. A line starting with
//! `:` at the start of a form is a command (`:help`).
//!
//! Evaluation (docs/ARCHITECTURE.md, "The REPL"): the session keeps the
//! forms that ran so far and ONE globals array that only grows (allocated
//! once with room for [`MAX_GLOBALS`] slots, registered with the runtime as
//! the global state's roots by each module's start-up code). Each new form
//! is compiled together with the earlier ones — expansion, lowering and
//! CTRR see the whole session, so names, macros and types resolve as in a
//! file — into a fresh JIT module whose entry calls only the new form's
//! top-level functions: earlier forms are never run again. Every IR global
//! is mapped by name to its session slot, and generated code addresses the
//! slots directly, so values built by earlier forms are seen and a later
//! `define` of a name stores into the same slot (the redefinition). Calls of
//! globals are late bound in a session (never direct), so code compiled
//! before a redefinition calls the new definition. A module stays alive
//! for the session (closures built by its code may be stored anywhere)
//! unless its form defined nothing and built no closure: then its memory is
//! freed once the form ran ([`Session::run`]). Modules add only their new
//! locations to the runtime's location table and share one runtime symbol
//! map, so a long session stays bounded.
//!
//! Running: the runtime's `rt::repl::Runner` runs each entry on one
//! program thread, on a coroutine that a runtime error abandons (its scope
//! regions released) to come back here; the report is printed and the
//! session goes on. A form that fails (to compile or at run time) adds no
//! definitions to the session.

use super::pipeline::{flush_stdout, print_dump, ImportCache, PRELUDE, PRELUDE_NAME};
use super::Fatal;
use crate::codegen::{self, CodegenOptions, ReplLink};
use crate::diag::{expand_diagnostics, render_all, Diagnostic};
use crate::syntax::{Datum, DatumKind, SourceMap};
use crate::{ctrr, expand, ir, syntax};
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Slots of the session's globals array (8 bytes each, committed by the
/// system only as they are used).
const MAX_GLOBALS: usize = 1 << 20;

const PROMPT: &str = "omni> ";
const CONTINUATION: &str = "  ... ";

const HELP: &str = "\
Enter a form to evaluate it; a form may span lines. Commands:
  :help            this list
  :quit            leave (Ctrl-D too)
  :load FILE       run the forms of FILE in this session
  :dump-ctrr FORM  print the CTRR view of FORM (not run)
Ctrl-C interrupts a running form or clears the line.
";

/// Run the REPL until `:quit` or end of input; exit status 0.
pub(crate) fn repl() -> Result<i32, Fatal> {
    let mut session = Session::new()?;
    let mut input = Input::open();
    omni_runtime::rt::repl::install_interrupt_handler();
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        let line = match input.read_line(prompt) {
            Line::Text(line) => line,
            Line::Interrupted => {
                pending.clear();
                continue;
            }
            Line::End => break,
        };
        if pending.is_empty() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with(':') {
                if let Some(command) = input.read_command(trimmed) {
                    input.remember(&command);
                    if session.command(&command) == Flow::Quit {
                        break;
                    }
                }
                continue;
            }
        }
        pending.push_str(&line);
        pending.push('\n');
        if balance(&pending) == Balance::Open {
            continue;
        }
        let text = std::mem::take(&mut pending);
        input.remember(text.trim_end());
        session.evaluate_text(&text);
    }
    input.close();
    if std::env::var("OMNI_STATS").is_ok_and(|v| v == "1") {
        eprintln!(
            "omni-stats: repl_modules_kept={}\nomni-stats: repl_modules_freed={}",
            session.modules.len(),
            session.freed_modules
        );
    }
    // Flush the program's output and, with OMNI_STATS=1, report the
    // session's memory statistics, as at the end of a file run.
    omni_runtime::base::raise::run_exit_hooks();
    Ok(0)
}

#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

/// Whether a form's text is complete.
#[derive(Debug, PartialEq, Eq)]
enum Balance {
    /// Every bracket opened is closed (or a closer too many: the reader
    /// reports it).
    Closed,
    /// A bracket, string or block comment is still open.
    Open,
}

/// Bracket balance of `text`, skipping strings (with `\` escapes),
/// character literals (`#\(`), line comments (`;`) and nested block
/// comments (`#| |#`).
fn balance(text: &str) -> Balance {
    let chars: Vec<char> = text.chars().collect();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            ';' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Balance::Open,
                        Some('\\') => i += 2,
                        Some('"') => break,
                        Some(_) => i += 1,
                    }
                }
            }
            '#' if chars.get(i + 1) == Some(&'\\') => {
                // `#\c`: the character after the backslash is data.
                i += 2;
            }
            '#' if chars.get(i + 1) == Some(&'|') => {
                let mut nest = 1;
                i += 2;
                while nest > 0 {
                    match (chars.get(i), chars.get(i + 1)) {
                        (None, _) => return Balance::Open,
                        (Some('|'), Some('#')) => {
                            nest -= 1;
                            i += 1;
                        }
                        (Some('#'), Some('|')) => {
                            nest += 1;
                            i += 1;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        Balance::Open
    } else {
        Balance::Closed
    }
}

/// One line of input.
enum Line {
    Text(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D or end of input.
    End,
}

/// Where lines come from: the line editor on a terminal, else plain stdin.
enum Input {
    Editor {
        editor: Box<rustyline::DefaultEditor>,
        history: Option<PathBuf>,
    },
    Piped(std::io::StdinLock<'static>),
}

impl Input {
    fn open() -> Input {
        if std::io::stdin().is_terminal() {
            if let Ok(mut editor) = rustyline::DefaultEditor::new() {
                let history =
                    std::env::var_os("HOME").map(|home| Path::new(&home).join(".omnic_history"));
                if let Some(path) = &history {
                    // A missing or unreadable history is not an error.
                    let _ = editor.load_history(path);
                }
                return Input::Editor {
                    editor: Box::new(editor),
                    history,
                };
            }
        }
        Input::Piped(std::io::stdin().lock())
    }

    fn read_line(&mut self, prompt: &str) -> Line {
        match self {
            Input::Editor { editor, .. } => match editor.readline(prompt) {
                Ok(line) => Line::Text(line),
                Err(rustyline::error::ReadlineError::Interrupted) => Line::Interrupted,
                Err(_) => Line::End,
            },
            Input::Piped(stdin) => {
                let mut line = String::new();
                match stdin.read_line(&mut line) {
                    Ok(0) | Err(_) => Line::End,
                    Ok(_) => {
                        if line.ends_with('\n') {
                            line.pop();
                            if line.ends_with('\r') {
                                line.pop();
                            }
                        }
                        Line::Text(line)
                    }
                }
            }
        }
    }

    /// A command line; `:dump-ctrr` reads continuation lines until its form
    /// is complete. None when interrupted or at end of input.
    fn read_command(&mut self, first: &str) -> Option<String> {
        let mut text = first.to_string();
        if text.starts_with(":dump-ctrr") {
            while balance(&text) == Balance::Open {
                match self.read_line(CONTINUATION) {
                    Line::Text(line) => {
                        text.push('\n');
                        text.push_str(&line);
                    }
                    Line::Interrupted | Line::End => return None,
                }
            }
        }
        Some(text)
    }

    fn remember(&mut self, entry: &str) {
        if let Input::Editor { editor, .. } = self {
            let _ = editor.add_history_entry(entry);
        }
    }

    fn close(&mut self) {
        if let Input::Editor {
            editor,
            history: Some(path),
        } = self
        {
            // Failing to write the history is not worth a message.
            let _ = editor.save_history(path);
        }
    }
}

/// The state of a session.
struct Session {
    sources: SourceMap,
    imports: ImportCache,
    prelude: Vec<Datum>,
    /// What the next module is compiled after ([`HistoryEntry`]).
    history: Vec<HistoryEntry>,
    /// The session's globals array (leaked: it lives as long as the
    /// process, as generated code addresses it).
    globals_base: usize,
    /// The session slot of each global, by name and occurrence (a program
    /// may have two globals of one name, e.g. a macro's renamed helper).
    slot_of: HashMap<(String, usize), u32>,
    /// Forms read so far (names the sources `repl:N`).
    counter: usize,
    /// The session's location table (`ir::lower::lower_repl_program`):
    /// every module's table extends it, so earlier modules' location ids
    /// stay valid.
    locs: LocTable,
    runner: omni_runtime::rt::repl::Runner,
    /// Every module kept: its code may be called while the session lasts.
    /// The module of a form that defined nothing and built no closure is
    /// freed once it ran ([`Session::run`]): nothing can call it again.
    modules: Vec<cranelift_jit::JITModule>,
    /// Modules freed so far (reported with `OMNI_STATS=1`).
    freed_modules: usize,
    /// Lines of the session's location table registered with the runtime.
    registered_locs: usize,
    /// Changes of `history` so far, and the count of top-level forms the
    /// history expanded to at generation N ([`Session::front_end`]).
    generation: u64,
    ran_cache: Option<(u64, usize)>,
}

/// A definition that ran, as the next modules see it. Only definitions
/// are kept (an expression form declares nothing), and the body of a
/// function or value definition is replaced by a call of `%repl-stub`:
/// the definition never runs again (its entry skips it), so only its name,
/// parameters and types matter, and an old body is never checked against
/// a later redefinition of something it uses.
#[derive(Clone)]
struct HistoryEntry {
    /// The form as entered (a method moves into a later form with it).
    original: Datum,
    /// The form compiled before later forms.
    stub: Datum,
    def: Option<Definition>,
}

#[derive(Clone, Debug, PartialEq)]
struct Definition {
    name: String,
    kind: DefinitionKind,
}

#[derive(Clone, Debug, PartialEq)]
enum DefinitionKind {
    /// `(define x EXPR)`.
    Value,
    /// `(define f [params] body...)`: a function or a method, with its
    /// signature (the parameter list without the names).
    Function(String),
    /// A struct, abstract type or macro.
    Other,
}

/// The session's location table: each location with the source file and
/// offset it was made for (`ir::lower::lower_repl_program`).
type LocTable = Vec<(u32, u32, ir::SourceLoc)>;

/// The hidden function whose call stands for an old definition's body.
const STUB_NAME: &str = "%repl-stub";

impl Session {
    fn new() -> Result<Session, Fatal> {
        let mut sources = SourceMap::default();
        let prelude_file = sources.add(PRELUDE_NAME, PRELUDE);
        let prelude = syntax::read_program(sources.source(prelude_file), prelude_file)
            .map_err(|e| Fatal(Diagnostic::from(e).render(&sources)))?;
        let stub_text = format!("(define {STUB_NAME} [] nothing)");
        let stub_file = sources.add("<repl>", stub_text);
        let stub = syntax::read_program(sources.source(stub_file), stub_file)
            .map_err(|e| Fatal(Diagnostic::from(e).render(&sources)))?;
        let globals: &'static mut [u64] = Box::leak(vec![0u64; MAX_GLOBALS].into_boxed_slice());
        let mut session = Session {
            imports: ImportCache::new(Path::new("<repl>"), prelude_file),
            sources,
            prelude,
            history: Vec::new(),
            globals_base: globals.as_mut_ptr() as usize,
            slot_of: HashMap::new(),
            counter: 0,
            locs: Vec::new(),
            runner: omni_runtime::rt::repl::Runner::start(),
            modules: Vec::new(),
            freed_modules: 0,
            registered_locs: 0,
            generation: 0,
            ran_cache: None,
        };
        // The first module runs the prelude's top level, once.
        session
            .run(stub)
            .map_err(|e| Fatal(format!("error: the prelude failed:\n{e}")))?;
        Ok(session)
    }

    /// Handle a `:` command.
    fn command(&mut self, text: &str) -> Flow {
        let (name, rest) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim()),
            None => (text, ""),
        };
        match name {
            ":quit" | ":q" => return Flow::Quit,
            ":help" | ":h" => print_dump(HELP),
            ":load" if !rest.is_empty() => self.load(Path::new(rest)),
            ":dump-ctrr" if !rest.is_empty() => self.dump_ctrr(rest),
            ":load" | ":dump-ctrr" => {
                let what = if name == ":load" { "FILE" } else { "FORM" };
                report(&format!("error: usage: {name} {what}\n"));
            }
            _ => report(&format!(
                "error: unknown command {name} (:help lists the commands)\n"
            )),
        }
        Flow::Go
    }

    /// Read `text` as the next source `repl:N`; None (reported) on a
    /// syntax error.
    fn read(&mut self, text: &str) -> Option<Vec<Datum>> {
        self.counter += 1;
        let file = self.sources.add(format!("repl:{}", self.counter), text);
        match syntax::read_program_all(self.sources.source(file), file) {
            Ok(forms) => Some(forms),
            Err(errors) => {
                let diags: Vec<Diagnostic> = errors.into_iter().map(Diagnostic::from).collect();
                report(&render_all(&diags, &self.sources));
                None
            }
        }
    }

    /// Evaluate every form of `text` in turn, printing each value.
    fn evaluate_text(&mut self, text: &str) {
        let Some(forms) = self.read(text) else {
            return;
        };
        for form in forms {
            // A `begin` holding definitions runs as one unit whose
            // definitions join the session one by one; its last form's
            // value is printed.
            let mut batch = Vec::new();
            splice_blocks(form, &mut batch);
            if let Some(last) = batch.pop() {
                batch.push(if is_definition(&last) {
                    last
                } else {
                    show_value(last)
                });
            }
            if let Err(e) = self.run(batch) {
                report(&e);
            }
        }
    }

    /// `:load FILE`: the file's forms, run as one unit (values not printed,
    /// as in a file run).
    fn load(&mut self, path: &Path) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                report(&format!("error: cannot read {}: {e}\n", path.display()));
                return;
            }
        };
        let file = self.sources.add(path.display().to_string(), text);
        let forms = match syntax::read_program_all(self.sources.source(file), file) {
            Ok(forms) => forms,
            Err(errors) => {
                let diags: Vec<Diagnostic> = errors.into_iter().map(Diagnostic::from).collect();
                report(&render_all(&diags, &self.sources));
                return;
            }
        };
        let mut batch = Vec::new();
        for form in forms {
            splice_blocks(form, &mut batch);
        }
        if let Err(e) = self.run(batch) {
            report(&e);
        }
    }

    /// `:dump-ctrr FORM`: the CTRR view of FORM compiled as the session's
    /// next top-level form (not run, not added).
    fn dump_ctrr(&mut self, text: &str) {
        let Some(forms) = self.read(text) else {
            return;
        };
        let name = format!("repl:{}:", self.counter);
        let mut history = self.history.clone();
        let batch = replace_definitions(&mut history, forms);
        match self.front_end(&history, &batch) {
            Ok((program, report, _)) => {
                let dump = ctrr::dump(&program, &report, false);
                print_dump(&functions_from(&dump, &name));
            }
            Err(e) => report(&e),
        }
    }

    /// Expand, lower and place `history` (stubs) followed by `batch`; the
    /// module's entry runs only `batch`. Returns the IR, its CTRR report
    /// and the session's location table with the program's.
    fn front_end(
        &mut self,
        history: &[HistoryEntry],
        batch: &[Datum],
    ) -> Result<(ir::Program, ctrr::CtrrReport, LocTable), String> {
        let old: Vec<Datum> = history.iter().map(|h| h.stub.clone()).collect();
        // The first module runs the prelude's top level too. The count of
        // top-level forms the history expands to changes only with the
        // history (a redefinition removes entries: `history` is then
        // shorter than the session's), so it is expanded once per change.
        let unchanged = history.len() == self.history.len();
        let ran = match self.ran_cache {
            _ if self.modules.is_empty() => 0,
            Some((generation, ran)) if unchanged && generation == self.generation => ran,
            _ => {
                let ran = self.expand(old.clone())?.body.len();
                if unchanged {
                    self.ran_cache = Some((self.generation, ran));
                }
                ran
            }
        };
        let ast = self.expand(old.into_iter().chain(batch.iter().cloned()).collect())?;
        let (mut program, locs) =
            ir::lower::lower_repl_program(&ast, &self.sources, ran, &self.locs);
        // Only the functions this module compiles get CTRR's decisions
        // (the analysis still sees the whole program).
        let reachable = ir::visit::reachable_from_entry(&program);
        let report = ctrr::run_for(&mut program, Some(&reachable));
        Ok((program, report, locs))
    }

    fn expand(&mut self, program: Vec<Datum>) -> Result<expand::ast::Program, String> {
        let (sources, imports) = (&mut self.sources, &mut self.imports);
        expand::expand_program_with_imports(self.prelude.clone(), program, &mut |p, at| {
            imports.load(sources, p, at)
        })
        .map_err(|e| render_all(&expand_diagnostics(e), &self.sources))
    }

    /// Compile `batch` after the session's definitions and run it; on
    /// success its definitions join the session.
    fn run(&mut self, batch: Vec<Datum>) -> Result<(), String> {
        let mut history = self.history.clone();
        let batch = replace_definitions(&mut history, batch);
        let (program, _, locs) = self.front_end(&history, &batch)?;
        let link = self.link(&program)?;
        let mut module = codegen::jit_module_with_lookup(Box::new(runtime_symbol))
            .map_err(|e| format!("error: {e}\n"))?;
        let opts = CodegenOptions::default();
        let compiled = codegen::compile_linked(&program, &mut module, &opts, Some(&link))
            .map_err(|e| format!("error: {e}\n"))?;
        let entry =
            codegen::finalize_jit(&mut module, &compiled).map_err(|e| format!("error: {e}\n"))?;
        // The module's new locations join the session's table (earlier
        // forms' locations keep their ids).
        let table = codegen::location_table(&program);
        let lines: Vec<&str> = table.split('\n').collect();
        let known = self.registered_locs.min(lines.len());
        omni_runtime::base::raise::extend_locs(known, &lines[known..]);
        self.registered_locs = lines.len();
        self.locs = locs;
        let disposable = !self.modules.is_empty()
            && batch.iter().all(|d| history_entry(d.clone()).is_none())
            && !makes_closures(&program);
        let trampoline = omni_runtime::control::call::apply_trampoline_address();
        flush_stdout();
        let outcome = self.runner.run(entry);
        if disposable {
            // Nothing can call this module's code again: the form defined
            // nothing and built no closure, its run is over (or abandoned),
            // and its constants were built into the global region. Its code
            // table and apply trampoline were registered at its start: the
            // runtime forgets them before the memory goes.
            omni_runtime::control::backtrace::forget_last_code_table();
            omni_runtime::control::call::omni_rt_set_apply_trampoline(trampoline);
            // SAFETY: the module's entry returned and no pointer into its
            // code or data is left in the runtime (see above).
            unsafe { module.free_memory() };
            self.freed_modules += 1;
        } else {
            self.modules.push(module);
        }
        outcome?;
        history.extend(batch.into_iter().filter_map(history_entry));
        self.history = history;
        self.generation += 1;
        Ok(())
    }

    /// Map every global of `program` to its session slot (new names get
    /// new slots).
    fn link(&mut self, program: &ir::Program) -> Result<ReplLink, String> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut slots = Vec::with_capacity(program.globals.len());
        for g in &program.globals {
            let nth = seen.entry(g.name.as_str()).or_insert(0);
            let key = (g.name.clone(), *nth);
            *nth += 1;
            let next = self.slot_of.len() as u32;
            let slot = *self.slot_of.entry(key).or_insert(next);
            if slot as usize >= MAX_GLOBALS {
                self.slot_of.retain(|_, s| *s < MAX_GLOBALS as u32);
                return Err(format!(
                    "error: the session has more than {MAX_GLOBALS} globals\n"
                ));
            }
            slots.push(slot);
        }
        Ok(ReplLink {
            base: self.globals_base,
            slot_of: slots,
            nslots: self.slot_of.len(),
        })
    }
}

/// The address of the runtime symbol `name`, from one map shared by every
/// module of the session (a copy per module was most of a module's memory).
fn runtime_symbol(name: &str) -> Option<*const u8> {
    static SYMBOLS: std::sync::OnceLock<HashMap<&'static str, usize>> = std::sync::OnceLock::new();
    SYMBOLS
        .get_or_init(|| omni_runtime::abi::runtime_symbols().into_iter().collect())
        .get(name)
        .map(|&addr| addr as *const u8)
}

/// Whether code of `program` reachable from its entry allocates a closure
/// (which could outlive the form, e.g. stored by `set!` or in a dict, and
/// keep its module's code callable).
fn makes_closures(program: &ir::Program) -> bool {
    let reachable = ir::visit::reachable_from_entry(program);
    let mut found = false;
    for f in program
        .functions
        .iter()
        .filter(|f| reachable[f.id.0 as usize])
    {
        ir::visit::walk_block(&f.body, &mut |st| {
            if let ir::Op::Alloc {
                what: ir::Alloc::Closure { .. },
                ..
            } = &st.op
            {
                found = true;
            }
        });
    }
    found
}

/// The redefinition rule. Before `batch` runs, each of its definitions
/// removes the session's earlier definitions of the same name: a value,
/// type or macro definition removes all of them, a function definition
/// removes the earlier value definitions and the function (method) with
/// the same signature; the earlier methods of the name with other
/// signatures move into the batch, in front of the new one, so the whole
/// generic function is defined again (a method definition only binds,
/// so running it again repeats no effect). Returns the batch to run.
fn replace_definitions(history: &mut Vec<HistoryEntry>, batch: Vec<Datum>) -> Vec<Datum> {
    let mut out = Vec::with_capacity(batch.len());
    for d in batch {
        if let Some(def) = definition_of(&d) {
            let mut moved = Vec::new();
            history.retain(|h| {
                let Some(old) = &h.def else { return true };
                if old.name != def.name {
                    return true;
                }
                if let (DefinitionKind::Function(new_sig), DefinitionKind::Function(old_sig)) =
                    (&def.kind, &old.kind)
                {
                    if new_sig != old_sig {
                        moved.push(h.original.clone());
                    }
                }
                false
            });
            out.extend(moved);
        }
        out.push(d);
    }
    out
}

/// The session's record of a form that ran (None: it defines nothing).
fn history_entry(d: Datum) -> Option<HistoryEntry> {
    let is_import = matches!(&d.kind, DatumKind::List(items)
        if matches!(items.first().map(|h| &h.kind), Some(DatumKind::Sym(s)) if s == "import"));
    if is_import {
        return Some(HistoryEntry {
            stub: d.clone(),
            original: d,
            def: None,
        });
    }
    let def = definition_of(&d)?;
    let stub = match (&def.kind, &d.kind) {
        (DefinitionKind::Other, _) => d.clone(),
        (DefinitionKind::Value, DatumKind::List(items)) => {
            let mut items = items.clone();
            let last = items.len() - 1;
            items[last] = stub_call(&d);
            Datum {
                kind: DatumKind::List(items),
                span: d.span,
            }
        }
        (DefinitionKind::Function(_), DatumKind::List(items)) => {
            // Everything up to the parameters (and a return type right
            // after them), then the stub as the body.
            let params = items
                .iter()
                .position(|i| matches!(i.kind, DatumKind::Slot(_)))
                .unwrap_or(items.len() - 1);
            let mut keep = params + 1;
            if matches!(items.get(keep).map(|i| &i.kind), Some(DatumKind::Kind(_)))
                && keep + 1 < items.len()
            {
                keep += 1;
            }
            let mut items: Vec<Datum> = items[..keep].to_vec();
            items.push(stub_call(&d));
            Datum {
                kind: DatumKind::List(items),
                span: d.span,
            }
        }
        _ => d.clone(),
    };
    Some(HistoryEntry {
        original: d,
        stub,
        def: Some(def),
    })
}

fn stub_call(at: &Datum) -> Datum {
    Datum {
        kind: DatumKind::List(vec![Datum {
            kind: DatumKind::Sym(STUB_NAME.to_string()),
            span: at.span,
        }]),
        span: at.span,
    }
}

/// What a top-level `define` defines: `(define x EXPR)`,
/// `(define f [params] body...)`, `(define ^:parent {P} {struct T} ...)`,
/// `(define {abstract T})`, `(define [syntax m] ...)`.
fn definition_of(d: &Datum) -> Option<Definition> {
    let DatumKind::List(items) = &d.kind else {
        return None;
    };
    if !matches!(items.first().map(|h| &h.kind), Some(DatumKind::Sym(s)) if s == "define") {
        return None;
    }
    let mut rest = items[1..].iter();
    let (name_item, index) = loop {
        let item = rest.next()?;
        match &item.kind {
            DatumKind::Meta(m) => {
                if m == "parent" {
                    rest.next();
                }
            }
            _ => break (item, items.len() - rest.len() - 1),
        }
    };
    let last_symbol = |ds: &[Datum]| {
        ds.iter().rev().find_map(|x| match &x.kind {
            DatumKind::Sym(s) => Some(s.clone()),
            _ => None,
        })
    };
    match &name_item.kind {
        DatumKind::Sym(name) => {
            let kind = match items.get(index + 1).map(|i| &i.kind) {
                Some(DatumKind::Slot(params)) => DefinitionKind::Function(signature(params)),
                _ if items.len() > index + 1 => DefinitionKind::Value,
                _ => return None,
            };
            Some(Definition {
                name: name.clone(),
                kind,
            })
        }
        DatumKind::Kind(parts) | DatumKind::Slot(parts) => Some(Definition {
            name: last_symbol(parts)?,
            kind: DefinitionKind::Other,
        }),
        _ => None,
    }
}

/// A parameter list without the parameters' names: `[s {Circle}]` →
/// `_ {Circle}`.
fn signature(params: &[Datum]) -> String {
    params
        .iter()
        .map(|p| match &p.kind {
            DatumKind::Sym(s) if !s.starts_with('&') && s != ".." => "_".to_string(),
            _ => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Print a report (compile or runtime error) to stderr after the
/// program's output so far.
fn report(text: &str) {
    flush_stdout();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
    let _ = err.flush();
}

/// Push `form` onto `out`, replacing a top-level `(begin ...)` or
/// `(do ...)` that holds a definition by its forms (as the expander splices
/// it in a file), so each definition is recorded by the session.
fn splice_blocks(form: Datum, out: &mut Vec<Datum>) {
    if let DatumKind::List(items) = &form.kind {
        let block = matches!(items.first().map(|h| &h.kind),
            Some(DatumKind::Sym(s)) if s == "begin" || s == "do");
        if block && items[1..].iter().any(is_definition_or_block) {
            for item in items[1..].iter().cloned() {
                splice_blocks(item, out);
            }
            return;
        }
    }
    out.push(form);
}

fn is_definition_or_block(d: &Datum) -> bool {
    if is_definition(d) {
        return true;
    }
    let mut inner = Vec::new();
    splice_blocks(d.clone(), &mut inner);
    inner.len() != 1 || is_definition(&inner[0])
}

/// A definition prints nothing: `(define ...)` and `(import ...)`.
fn is_definition(d: &Datum) -> bool {
    match &d.kind {
        DatumKind::List(items) => matches!(
            items.first().map(|h| &h.kind),
            Some(DatumKind::Sym(s)) if s == "define" || s == "import"
        ),
        _ => false,
    }
}

/// `(let [%repl-value FORM] (if (nothing? %repl-value) nothing (begin
/// (write %repl-value) (newline))))`: the form's value, printed with
/// `write` unless it is `nothing`.
fn show_value(form: Datum) -> Datum {
    let span = form.span;
    let d = |kind| Datum { kind, span };
    let sym = |s: &str| d(DatumKind::Sym(s.to_string()));
    let value = "%repl-value";
    d(DatumKind::List(vec![
        sym("let"),
        d(DatumKind::Slot(vec![sym(value), form])),
        d(DatumKind::List(vec![
            sym("if"),
            d(DatumKind::List(vec![sym("nothing?"), sym(value)])),
            d(DatumKind::Nothing),
            d(DatumKind::List(vec![
                sym("begin"),
                d(DatumKind::List(vec![sym("write"), sym(value)])),
                d(DatumKind::List(vec![sym("newline")])),
            ])),
        ])),
    ]))
}

/// The function sections of a CTRR dump located in the source `prefix`
/// (`repl:N:`).
fn functions_from(dump: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in dump.lines() {
        if line.starts_with("function ") {
            keep = line.contains(&format!(" at {prefix}"));
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(text: &str) -> Vec<Datum> {
        syntax::read_program(text, 0).unwrap()
    }

    fn def(name: &str, kind: DefinitionKind) -> Option<Definition> {
        Some(Definition {
            name: name.into(),
            kind,
        })
    }

    #[test]
    fn definitions_are_recognised() {
        let ds = forms(
            "(define x 5) (define f [a b] a) (define area [s {Circle}] 1) \
             (define ^:parent {Shape} {struct Circle} [r {Float}]) \
             (define [syntax swap!] [(swap! a b) b]) (f 1) (define)",
        );
        let got: Vec<_> = ds.iter().map(definition_of).collect();
        assert_eq!(
            got,
            vec![
                def("x", DefinitionKind::Value),
                def("f", DefinitionKind::Function("_ _".into())),
                def("area", DefinitionKind::Function("_ {Circle}".into())),
                def("Circle", DefinitionKind::Other),
                def("swap!", DefinitionKind::Other),
                None,
                None,
            ]
        );
    }

    #[test]
    fn redefinition_replaces_and_methods_move() {
        let old = forms(
            "(define area [s {Circle}] 1) (define area [s {Rect}] 2) (define x 1) (define y 2)",
        );
        let mut history: Vec<HistoryEntry> = old.into_iter().filter_map(history_entry).collect();
        // The stubs keep the parameters, not the bodies.
        assert_eq!(
            history[0].stub.to_string(),
            "(define area [s {Circle}] (%repl-stub))"
        );
        assert_eq!(history[2].stub.to_string(), "(define x (%repl-stub))");
        let batch = replace_definitions(
            &mut history,
            forms("(define area [s {Circle}] 3) (define x [] 4)"),
        );
        // The Rect method moves in front of the new Circle method (which
        // replaces the old one); the value x is replaced by a function.
        let batch: Vec<String> = batch.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            batch,
            vec![
                "(define area [s {Rect}] 2)",
                "(define area [s {Circle}] 3)",
                "(define x [] 4)"
            ]
        );
        let left: Vec<String> = history.iter().map(|h| h.original.to_string()).collect();
        assert_eq!(left, vec!["(define y 2)"]);
    }

    #[test]
    fn balance_respects_strings_chars_and_comments() {
        assert_eq!(balance("(+ 1 2)"), Balance::Closed);
        assert_eq!(balance("(define (f x)\n"), Balance::Open);
        assert_eq!(balance("(f \"(\")"), Balance::Closed);
        assert_eq!(balance("(f \"a\\\"(\")"), Balance::Closed);
        assert_eq!(balance("(f #\\()"), Balance::Closed);
        assert_eq!(balance("(f ; (\n)"), Balance::Closed);
        assert_eq!(balance("(f #| ( #| ( |# |# )"), Balance::Closed);
        assert_eq!(balance("(f #| ( "), Balance::Open);
        assert_eq!(balance("\"abc"), Balance::Open);
        assert_eq!(balance("[1 {2 3}"), Balance::Open);
        assert_eq!(balance("x)"), Balance::Closed);
    }
}
