//! `omnic fmt`: formats files in place, checks them (`--check`), or
//! formats stdin to stdout (`-` or no file). The formatting itself is
//! `crate::fmt`; this is the command around it: reading, the diagnostics
//! of a file that does not read (it is never rewritten), writing, and the
//! exit status.

use super::pipeline::{decode_source, invalid_utf8};
use super::{on_compiler_stack, Fatal};
use crate::diag::{Diagnostic, SourceMap};
use crate::fmt::{format_source, FmtError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What formatting one text gave.
enum Outcome {
    Formatted(String),
    /// Already reported on stderr.
    Failed,
}

/// Formats `bytes` (named `name` in diagnostics), printing any error.
fn format_text(name: &str, bytes: Vec<u8>) -> Outcome {
    let (source, bad_utf8) = decode_source(bytes);
    let mut sources = SourceMap::default();
    let file = sources.add(name, source);
    if let Some(at) = bad_utf8 {
        eprint!("{}", invalid_utf8(file, at).render(&sources));
        return Outcome::Failed;
    }
    match format_source(sources.source(file)) {
        Ok(text) => Outcome::Formatted(text),
        Err(FmtError::Read(mut e)) => {
            e.span.file = file;
            if let Some((s, _)) = e.secondary.as_mut() {
                s.file = file;
            }
            eprint!("{}", Diagnostic::from(e).render(&sources));
            Outcome::Failed
        }
        Err(FmtError::Internal(message)) => {
            eprintln!(
                "error: internal formatter error in {name}: {message} (the file is left as it is)"
            );
            Outcome::Failed
        }
    }
}

/// `omnic fmt [--check] FILE...`; returns the exit status.
pub(super) fn fmt(check: bool, files: Vec<PathBuf>) -> Result<i32, Fatal> {
    // The formatter recurses over the datum tree, like the front end.
    on_compiler_stack(move || {
        if files.is_empty() || files == [Path::new("-")] {
            return stdin(check);
        }
        let mut status = 0;
        for path in &files {
            if !format_file(path, check) {
                status = 1;
            }
        }
        Ok(status)
    })
}

/// Formats one file; false when it failed or (with `--check`) would change.
fn format_file(path: &Path, check: bool) -> bool {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return false;
        }
    };
    let original = bytes.clone();
    let name = path.display().to_string();
    let Outcome::Formatted(text) = format_text(&name, bytes) else {
        return false;
    };
    if text.as_bytes() == original.as_slice() {
        return true;
    }
    if check {
        println!("{name}");
        return false;
    }
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: cannot write {name}: {e}");
            false
        }
    }
}

/// Stdin to stdout; with `--check`, nothing is written and the status says
/// whether it would change.
fn stdin(check: bool) -> Result<i32, Fatal> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Fatal(format!("error: cannot read stdin: {e}\n")))?;
    let original = bytes.clone();
    let Outcome::Formatted(text) = format_text("<stdin>", bytes) else {
        return Ok(1);
    };
    if check {
        if text.as_bytes() == original.as_slice() {
            return Ok(0);
        }
        println!("<stdin>");
        return Ok(1);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Fatal(format!("error: cannot write stdout: {e}\n")))?;
    Ok(0)
}
