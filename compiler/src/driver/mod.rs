//! The driver: command line (clap), pipeline orchestration, JIT runs and
//! native builds.
//!
//! `omnic run FILE` compiles through every stage into a JIT module and runs
//! the program via the runtime's `run_jit`; `omnic build` writes an object
//! file, links it with the embedded runtime staticlib using the system `cc`;
//! `omnic check` only reports diagnostics: it runs the front end through
//! CTRR and stops before code generation; `omnic repl` is the interactive
//! session (`repl.rs`); `omnic fmt` formats source files (`format.rs`);
//! `omnic lsp` runs the language server (`crate::lsp`).
//! Every failure is printed to stderr as `error: ...` (compile errors
//! rendered with their source line) and gives exit status 1; an internal
//! compiler error (a panic) is caught by a hook and reported the same way
//! instead of a backtrace.

mod build;
mod format;
mod manifest;
mod pipeline;
mod repl;

use crate::codegen::{self, CodegenOptions};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "omnic", version, about = "The OmniLisp compiler")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile FILE with the JIT and run it.
    Run {
        file: PathBuf,
        /// Print memory statistics when the program ends (sets OMNI_STATS=1).
        #[arg(long)]
        stats: bool,
        #[command(flatten)]
        dumps: Dumps,
        /// Arguments passed to the program (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Compile FILE (or the `omnic.toml` project here) to a native executable.
    Build {
        file: Option<PathBuf>,
        /// The executable to write (default: the file stem, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Leave out the DWARF line table (`.debug_*` sections) and the
        /// symbol table.
        #[arg(long)]
        strip: bool,
        /// Build for shipping: the debug information (`.debug_line` and the
        /// other `.debug_*` sections) and the symbol table are left out, as
        /// with `--strip`. Without it a build keeps them.
        #[arg(long)]
        release: bool,
        #[command(flatten)]
        dumps: Dumps,
    },
    /// Report diagnostics only (every stage up to region inference, no code
    /// generation unless `--dump-clif`); exit status 0 when the program is clean.
    Check {
        file: PathBuf,
        #[command(flatten)]
        dumps: Dumps,
    },
    /// Read, compile and run forms interactively (`:help` lists the commands).
    Repl,
    /// Format source files in place (docs/STYLE.md); `-` or no file formats
    /// stdin to stdout.
    Fmt {
        /// Write nothing: list the files that would change, exit status 1
        /// if any would.
        #[arg(long)]
        check: bool,
        files: Vec<PathBuf>,
    },
    /// Run the language server on stdin/stdout (for editors: diagnostics,
    /// definitions, references, hover, completion, document symbols).
    Lsp,
}

/// Intermediate representations to print to stdout, and front-end switches
/// for debugging.
#[derive(Args, Debug, Clone, Copy, Default)]
pub(crate) struct Dumps {
    /// Print the program after macro expansion, as S-expressions (names a
    /// macro introduced print with their mark, e.g. `tmp#3`).
    #[arg(long)]
    pub dump_expanded: bool,
    /// Print the expanded core AST.
    #[arg(long)]
    pub dump_ast: bool,
    /// Print the IR after lowering and inlining.
    #[arg(long)]
    pub dump_ir: bool,
    /// Print the IR after the CTRR pass (regions of allocation sites).
    #[arg(long)]
    pub dump_ctrr: bool,
    /// Print the Cranelift IR of every generated function.
    #[arg(long)]
    pub dump_clif: bool,
    /// Do not inline small known functions (also `OMNI_NO_INLINE=1`): every
    /// call stays a call, for debugging.
    #[arg(long)]
    pub no_inline: bool,
}

/// A fatal, already formatted error: printed to stderr, exit status 1.
#[derive(Debug)]
pub(crate) struct Fatal(pub String);

impl From<codegen::CodegenError> for Fatal {
    fn from(e: codegen::CodegenError) -> Fatal {
        Fatal(format!("error: {e}\n"))
    }
}

/// Run the command line; returns the process exit status.
pub fn main() -> i32 {
    install_panic_hook();
    let cli = Cli::parse();
    let status = match dispatch(cli.command) {
        Ok(status) => status,
        Err(Fatal(message)) => {
            crate::driver::pipeline::flush_stdout();
            eprint!("{message}");
            if !message.ends_with('\n') {
                eprintln!();
            }
            1
        }
    };
    // With the stage times, the compiler's peak memory: a pass that keeps
    // a copy of its facts per nesting level shows here long before it
    // shows in the time (tests/e2e.rs, `deep_cond_checks_in_linear_memory`).
    if crate::diag::timing::enabled() {
        if let Some(kb) = omni_runtime::stats::peak_rss_kb() {
            eprintln!("omnic: peak memory {kb} KB");
        }
    }
    status
}

/// Stack of the thread the front end runs on. Every stage recurses over the
/// datum tree, so a program nested [`crate::syntax::MAX_NESTING`] levels
/// deep needs far more than the main thread's 8 MiB; the memory is only
/// committed as deep recursion touches it. (Code generation stays on the
/// main thread: the JIT's code must be allocated near the runtime's
/// symbols, which a secondary thread's malloc arena is not.)
const COMPILER_STACK_SIZE: usize = 4 << 30;

/// Run `work` on a thread with a [`COMPILER_STACK_SIZE`] stack (a smaller
/// one if the system refuses to reserve that much address space).
pub(crate) fn on_compiler_stack<T: Send>(
    work: impl FnOnce() -> Result<T, Fatal> + Send,
) -> Result<T, Fatal> {
    // The work stays here until a thread starts, so a refused spawn can be
    // retried with a smaller stack.
    let pending = std::sync::Mutex::new(Some(work));
    let take = || pending.lock().unwrap_or_else(|e| e.into_inner()).take();
    let mut size = COMPILER_STACK_SIZE;
    while size >= 64 << 20 {
        let started = std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("omnic".into())
                .stack_size(size)
                .spawn_scoped(scope, || take().map(|work| work()))
                .ok()?;
            // A panic exits the process from the hook, so join only fails
            // if the hook itself could not run.
            handle.join().ok().flatten()
        });
        if let Some(result) = started {
            return result;
        }
        size /= 2;
    }
    match take() {
        Some(work) => work(),
        None => Err(Fatal(
            "error: internal compiler error: the compiler thread failed\n".into(),
        )),
    }
}

/// Programs with at least this many IR functions have their large trees
/// freed by [`drop_in_background`] in a one-shot command; a smaller one's
/// are freed in well under a millisecond, less than a thread costs.
const MIN_FUNCTIONS_TO_DROP_IN_BACKGROUND: usize = 512;

/// Free `tree` (a program's expanded AST or IR, which the command no
/// longer needs)
/// on a thread of its own, while this one goes on with the next stage:
/// freeing a 10,000-line program's expanded AST takes 6–10 ms, its IR and
/// code table as much, on the serial path of `omnic build` (issue 13). The thread has
/// the compiler's stack (freeing recurses as deep as the program nests)
/// and is not joined: the process may end before it does. Where it cannot
/// start, `tree` is freed here. Only for commands that run nothing after
/// compiling (`build`, `check`): `omnic run` frees its trees before the
/// program runs, so that none of the compiler's freeing is counted in the
/// program's statistics or overlaps its run.
pub(crate) fn drop_in_background<T: Send + 'static>(tree: T) {
    // A refused spawn drops the closure, and `tree` with it, here.
    let _ = std::thread::Builder::new()
        .name("omnic-free".into())
        .stack_size(COMPILER_STACK_SIZE)
        .spawn(move || drop(tree));
}

fn dispatch(command: Command) -> Result<i32, Fatal> {
    match command {
        Command::Run {
            file,
            stats,
            dumps,
            args,
        } => run(file, stats, dumps, args),
        Command::Build {
            file,
            output,
            strip,
            release,
            dumps,
        } => build::build(file, output, strip || release, dumps),
        Command::Repl => repl::repl(),
        Command::Fmt { check, files } => format::fmt(check, files),
        Command::Lsp => on_compiler_stack(|| {
            crate::lsp::run_stdio(pipeline::lsp_host())
                .map_err(|e| Fatal(format!("error: omnic lsp: {e}\n")))
        }),
        // `check` stops after CTRR, the last stage that reports errors in
        // the program: code generation only fails on compiler bugs (its
        // errors are broken IR invariants), and it is most of the compile
        // time. `--dump-clif` asks for the generated code, so it still runs
        // then, on the big stack like `build` (code generation recurses over
        // deeply nested constants); `run` cannot, see COMPILER_STACK_SIZE.
        Command::Check { file, dumps } => on_compiler_stack(|| {
            let front =
                pipeline::front_end_here(&file, dumps, pipeline::Leftovers::DropInBackground)?;
            if !dumps.dump_clif {
                if front.program.functions.len() >= MIN_FUNCTIONS_TO_DROP_IN_BACKGROUND {
                    drop_in_background(front);
                }
                return Ok(0);
            }
            let mut module = codegen::jit_module(std::iter::empty())?;
            let opts = CodegenOptions {
                dump_clif: dumps.dump_clif,
                emit_main: false,
                merge_threshold_bytes: None,
                threads: 0,
            };
            let compiled = codegen::compile(&front.program, &mut module, &opts)?;
            pipeline::print_clif(&compiled, dumps);
            Ok(0)
        }),
    }
}

fn run(file: PathBuf, stats: bool, dumps: Dumps, args: Vec<String>) -> Result<i32, Fatal> {
    let front = pipeline::front_end(&file, dumps)?;
    let symbols = omni_runtime::abi::runtime_symbols();
    let mut module = codegen::jit_module(symbols)?;
    let opts = CodegenOptions {
        dump_clif: dumps.dump_clif,
        emit_main: false,
        merge_threshold_bytes: None,
        threads: 0,
    };
    let compiled = codegen::compile(&front.program, &mut module, &opts)?;
    pipeline::print_clif(&compiled, dumps);
    let entry = codegen::finalize_jit(&mut module, &compiled)?;
    if std::env::var_os("OMNI_PERF_MAP").is_some_and(|v| v == "1") {
        codegen::write_perf_map(&module, &compiled)?;
    }
    if stats {
        // The runtime reads OMNI_STATS when the program ends; set it while
        // the process is still single-threaded.
        std::env::set_var("OMNI_STATS", "1");
    }
    let mut argv = vec![file.display().to_string()];
    argv.extend(args);
    omni_runtime::rt::set_command_line_args(argv);
    pipeline::flush_stdout();
    let status = omni_runtime::rt::run_jit(entry);
    // The module owns the program's code: it must outlive the run.
    drop(module);
    Ok(status)
}

/// Report panics as internal compiler errors (exit status 1, no backtrace).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic".to_string()
        };
        pipeline::flush_stdout();
        match info.location() {
            Some(at) => eprintln!("error: internal compiler error: {message}\n  at {at}"),
            None => eprintln!("error: internal compiler error: {message}"),
        }
        std::process::exit(1);
    }));
}
