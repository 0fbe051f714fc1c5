//! Build script: generates the parser from `src/syntax/grammar.lalrpop` and
//! compiles the runtime crate as a staticlib that `omnic build` embeds and
//! links into every executable (so `omnic` works from any directory and the
//! executables need nothing from the source tree).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process()
        .expect("lalrpop grammar");
    build_runtime_staticlib();
}

fn build_runtime_staticlib() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let runtime_src = manifest.join("../runtime/src");
    println!("cargo:rerun-if-changed={}", runtime_src.display());
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let lib = out.join("libomni_runtime.a");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "staticlib",
            "--crate-name",
            "omni_runtime",
        ])
        .args([
            "-C",
            "opt-level=3",
            "-C",
            "panic=abort",
            "-C",
            "debuginfo=0",
            // No LLVM bitcode beside the machine code (it is only for
            // LTO, which the link of `omnic build` does not do).
            "-C",
            "embed-bitcode=no",
        ])
        .args(["-C", "codegen-units=1", "--cap-lints", "allow"])
        .arg(runtime_src.join("lib.rs"))
        .arg("-o")
        .arg(&lib)
        .status()
        .expect("running rustc for the runtime staticlib");
    assert!(status.success(), "building the runtime staticlib failed");
    println!(
        "cargo:rustc-env=OMNI_RUNTIME_STATICLIB={}",
        strip_debug(&lib).display()
    );
}

/// A copy of the archive `lib` without debug sections and LLVM bitcode,
/// or `lib` itself when `objcopy` is missing or fails. The runtime is
/// compiled without debug information and bitcode; what the archive
/// carries of them is the standard library's (18 of its 22 MB), which
/// every link of `omnic build` wrote to a temporary file and read, and
/// the debug sections of which it copied into the executable: the link
/// takes a third less time without them (issue 13). A program's own line
/// table is written by omnic and stays.
fn strip_debug(lib: &std::path::Path) -> PathBuf {
    let stripped = lib.with_file_name("libomni_runtime-nodebug.a");
    let ok = Command::new("objcopy")
        .arg("--strip-debug")
        .args(["--remove-section=.llvmbc", "--remove-section=.llvmcmd"])
        .arg(lib)
        .arg(&stripped)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        stripped
    } else {
        println!("cargo:warning=objcopy --strip-debug failed; the runtime archive keeps its debug sections");
        lib.to_path_buf()
    }
}
