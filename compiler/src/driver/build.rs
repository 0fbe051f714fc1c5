//! `omnic build`: compile to an object file and link a native executable.
//!
//! The runtime staticlib is embedded in `omnic` at compile time (the build
//! script exports its path), so building works from any directory and the
//! executable needs nothing from the source tree. Linking uses the system
//! `cc` with the native libraries the Rust standard library needs
//! (`rustc --print native-static-libs`).

use super::manifest::{self, MANIFEST_FILE};
use super::{pipeline, Dumps, Fatal};
use crate::codegen::{self, CodegenOptions, DEFAULT_OPT_LEVEL};
use crate::diag::timing;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The runtime, built as a staticlib by `build.rs`.
static RUNTIME_STATICLIB: &[u8] = include_bytes!(env!("OMNI_RUNTIME_STATICLIB"));

/// System libraries the runtime staticlib (Rust std) links against.
const NATIVE_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// What to build: the entry source, the executable path, the opt level.
struct Target {
    entry: PathBuf,
    output: PathBuf,
    opt_level: String,
    /// `[ctrr] merge_threshold_bytes` (manifest builds only).
    merge_threshold_bytes: Option<u64>,
}

pub(crate) fn build(
    file: Option<PathBuf>,
    output: Option<PathBuf>,
    strip: bool,
    dumps: Dumps,
) -> Result<i32, Fatal> {
    let target = resolve_target(file, output)?;
    refuse_to_overwrite_source(&target)?;
    // The linker's inputs are written to a temporary directory: the
    // runtime archive (4.5 MB) on a thread of its own while the program
    // compiles, off the serial path (issue 13).
    let runtime = std::thread::Builder::new()
        .name("omnic-runtime".into())
        .spawn(write_runtime);
    let object = super::on_compiler_stack(|| compile_object(&target, strip, dumps));
    // Joined also when compiling failed: the process must not end while
    // the thread could still leave the temporary directory behind.
    let runtime = match runtime {
        Ok(writing) => writing
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload)),
        Err(_) => write_runtime(),
    };
    let (product, runtime) = (object?, runtime?);
    // Written straight to the file, not first into a buffer of its size.
    let object = runtime.dir.path().join("program.o");
    timing::time("object file", || write_object(&product, &object))?;
    timing::time("link", || link(&runtime, &object, &target.output, strip))?;
    Ok(0)
}

/// The object of `target`, with its debug information unless `strip`
/// (run on the compiler's big stack).
fn compile_object(
    target: &Target,
    strip: bool,
    dumps: Dumps,
) -> Result<cranelift_object::ObjectProduct, Fatal> {
    let front =
        pipeline::front_end_here(&target.entry, dumps, pipeline::Leftovers::DropInBackground)?;
    let object_name = file_stem(&target.entry);
    let mut module = codegen::object_module(&object_name, &target.opt_level)?;
    let opts = CodegenOptions {
        dump_clif: dumps.dump_clif,
        emit_main: true,
        merge_threshold_bytes: target.merge_threshold_bytes,
        threads: 0,
    };
    let compiled = timing::time("codegen", || {
        codegen::compile(&front.program, &mut module, &opts)
    })?;
    pipeline::print_clif(&compiled, dumps);
    let mut product = module.finish();
    if !strip {
        timing::time("debug info", || {
            codegen::debug_line::add_debug_info(
                &mut product,
                &compiled.functions,
                &front.program.locs,
                &target.entry.display().to_string(),
            )
        })?;
    }
    if front.program.functions.len() >= super::MIN_FUNCTIONS_TO_DROP_IN_BACKGROUND {
        super::drop_in_background((front, compiled));
    }
    Ok(product)
}

fn write_object(product: &cranelift_object::ObjectProduct, path: &Path) -> Result<(), Fatal> {
    let failed = |e: &dyn std::fmt::Display| {
        Fatal(format!(
            "error: writing the object file {} failed: {e}\n",
            path.display()
        ))
    };
    let file = std::fs::File::create(path).map_err(|e| failed(&e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    product
        .object
        .write_stream(&mut out)
        .map_err(|e| failed(&e))?;
    out.flush().map_err(|e| failed(&e))
}

fn resolve_target(file: Option<PathBuf>, output: Option<PathBuf>) -> Result<Target, Fatal> {
    match file {
        Some(entry) => {
            let output = output.unwrap_or_else(|| PathBuf::from(file_stem(&entry)));
            Ok(Target {
                entry,
                output,
                opt_level: DEFAULT_OPT_LEVEL.to_string(),
                merge_threshold_bytes: None,
            })
        }
        None => {
            let text = pipeline::read_source(Path::new(MANIFEST_FILE))?;
            let m = manifest::parse(&text)?;
            let entry = PathBuf::from(&m.entry);
            let output = output
                .or(m.output.map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(file_stem(&entry)));
            Ok(Target {
                entry,
                output,
                opt_level: m.opt_level,
                merge_threshold_bytes: m.merge_threshold_bytes,
            })
        }
    }
}

/// `omnic build prog` on an extensionless `prog`, `-o prog.omni`, or a
/// manifest whose `output` is its `entry` would replace the program with
/// the executable: refuse, as gcc and rustc do.
fn refuse_to_overwrite_source(target: &Target) -> Result<(), Fatal> {
    if same_file(&target.entry, &target.output) {
        return Err(Fatal(format!(
            "error: the output file {} is the source file; refusing to overwrite it\n\
             (choose another executable name with `-o NAME`)\n",
            target.output.display()
        )));
    }
    Ok(())
}

/// Do the two paths name one file? Compared after resolving symbolic links
/// and `..` when both exist, lexically otherwise (a missing output cannot be
/// the source).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "a.out".to_string())
}

fn link_failed(what: String) -> Fatal {
    Fatal(format!("error: linking failed: {what}\n"))
}

/// The runtime archive, written for the linker into a new temporary
/// directory (removed when the result is dropped).
struct WrittenRuntime {
    dir: tempfile::TempDir,
    path: PathBuf,
}

fn write_runtime() -> Result<WrittenRuntime, Fatal> {
    let dir =
        tempfile::tempdir().map_err(|e| link_failed(format!("cannot create a temp dir: {e}")))?;
    let path = dir.path().join("libomni_runtime.a");
    std::fs::write(&path, RUNTIME_STATICLIB)
        .map_err(|e| link_failed(format!("cannot write {}: {e}", path.display())))?;
    Ok(WrittenRuntime { dir, path })
}

/// Link the object file `object_path` with the `runtime` into the
/// executable `output`.
fn link(
    runtime: &WrittenRuntime,
    object_path: &Path,
    output: &Path,
    strip: bool,
) -> Result<(), Fatal> {
    let failed = link_failed;
    let runtime_path = &runtime.path;
    let run_cc = |gold: bool| {
        let mut cc = Command::new("cc");
        if strip {
            // No symbol table and no debug sections (the runtime's included).
            cc.arg("-s");
        }
        if gold {
            cc.arg("-fuse-ld=gold");
        }
        // No build ID: the linker hashed the whole executable for it
        // (SHA-1 of ~10 MB at 10,000 lines, a fifth of the link; issue
        // 13), and nothing reads it.
        cc.arg("-Wl,--build-id=none");
        cc.arg("-o")
            .arg(output)
            .arg(object_path)
            .arg(runtime_path)
            .args(NATIVE_LIBS)
            .output()
            .map_err(|e| failed(format!("cannot run `cc`: {e}")))
    };
    // gold links the runtime archive in two thirds of the time GNU ld
    // takes (0.09 s against 0.14 s for a 10,000-line program, a twelfth
    // of the whole build; issue 13). Where it is missing or fails, the
    // default linker links as before, and its error is the one reported.
    let mut result = None;
    if gold_available() {
        result = run_cc(true).ok().filter(|r| r.status.success());
    }
    let result = match result {
        Some(done) => done,
        None => run_cc(false)?,
    };
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        return Err(failed(format!(
            "`cc` exited with {}\n{}",
            result.status,
            stderr.trim_end()
        )));
    }
    Ok(())
}

/// Is `ld.gold` on the `PATH` (where `cc -fuse-ld=gold` finds it)?
fn gold_available() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("ld.gold").is_file()))
}
