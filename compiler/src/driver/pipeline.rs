//! The front half of the pipeline shared by `run`, `build` and `check`:
//! read the prelude and the program, expand, lower, run CTRR, printing the
//! requested dumps on the way. Stage errors become rendered diagnostics.

use super::{Dumps, Fatal};
use crate::codegen::CompiledProgram;
use crate::diag::{Diagnostic, SourceMap};
use crate::{ctrr, expand, ir, syntax};
use std::io::Write;
use std::path::Path;

/// The standard prelude, compiled in front of every program.
const PRELUDE: &str = include_str!("../../../std/prelude.omni");
const PRELUDE_NAME: &str = "std/prelude.omni";

/// The result of the front end: the program's IR after CTRR.
pub(crate) struct FrontEnd {
    pub program: ir::Program,
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
    let source = read_source(path)?;
    let mut sources = SourceMap::default();
    let prelude_file = sources.add(PRELUDE_NAME, PRELUDE);
    let program_file = sources.add(path.display().to_string(), source);

    let prelude = syntax::read_program(sources.source(prelude_file), prelude_file)
        .map_err(|e| render(Diagnostic::from(e), &sources))?;
    let program = syntax::read_program(sources.source(program_file), program_file)
        .map_err(|e| render(Diagnostic::from(e), &sources))?;

    let ast = expand::expand_program(prelude, program)
        .map_err(|e| render(Diagnostic::from(e), &sources))?;
    if dumps.dump_ast {
        print_dump(&ast.to_string());
    }

    let mut program = ir::lower::lower_program(&ast, &sources);
    if dumps.dump_ir {
        print_dump(&program.to_string());
    }
    let report = ctrr::run(&mut program);
    if dumps.dump_ctrr {
        print_dump(&ctrr::dump(&program, &report, false));
    }
    Ok(FrontEnd { program })
}

pub(crate) fn print_clif(compiled: &CompiledProgram, dumps: Dumps) {
    if dumps.dump_clif {
        print_dump(&compiled.clif);
    }
}
