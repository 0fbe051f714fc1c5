//! `(import "path")`: top-level source inclusion, each file once.
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
use std::collections::HashSet;

/// A file loaded for `(import "path")`.
#[derive(Debug, Clone)]
pub struct ImportedFile {
    /// Identity of the file: equal for every import that resolves to it.
    pub file: FileId,
    /// Its name for messages.
    pub name: String,
    /// Its top-level forms.
    pub forms: Vec<Datum>,
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
}

impl<'l, 'a> Imports<'l, 'a> {
    pub(super) fn new(loader: &'l mut ImportLoader<'a>, main: Option<FileId>) -> Self {
        Imports {
            loader,
            active: main.map(|f| (f, None)).into_iter().collect(),
            done: HashSet::new(),
        }
    }
}

/// If `d` is `(import ...)`, its path datum (checked) and the form's span.
fn import_path(d: &Datum) -> Result<Option<(String, Span)>> {
    let DatumKind::List(items) = &d.kind else {
        return Ok(None);
    };
    if items.first().and_then(macros::keyword) != Some("import") {
        return Ok(None);
    }
    match &items[1..] {
        [Datum {
            kind: DatumKind::Str(p),
            ..
        }] => Ok(Some((p.clone(), d.span))),
        _ => Err(ExpandError::new(
            "`import` takes one string: `(import \"path/to/file.omni\")`",
            d.span,
            "malformed import",
        )),
    }
}

impl Expander {
    /// [`Self::flatten_with_imports`], recording an error and going on
    /// with the next form (so every broken import is reported).
    pub(super) fn flatten_or_record(
        &mut self,
        d: Datum,
        out: &mut Vec<Datum>,
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
        out: &mut Vec<Datum>,
        imports: &mut Imports,
    ) -> Result<()> {
        // Macros: a definition is recorded (it is not a form of the
        // program), every other form has its macro uses expanded first,
        // so a macro may expand into `(begin (define ...) ...)` or an
        // import.
        if macros::is_syntax_definition(&d) {
            match macros::parse_definition(&d) {
                Ok(m) => self.macros.define(m),
                Err(e) => {
                    self.macros.define_broken(&d);
                    return Err(e);
                }
            }
            return Ok(());
        }
        let d = self.macros.expand_uses(d)?;
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
        let Some((path, span)) = import_path(&d)? else {
            out.push(d);
            return Ok(());
        };
        let file = (imports.loader)(&path, span)?;
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
        if !imports.done.insert(file.file) {
            return Ok(()); // already loaded: its forms ran at the first import
        }
        imports.active.push((file.file, Some(file.name)));
        for x in file.forms {
            self.flatten_or_record(x, out, imports);
        }
        imports.active.pop();
        Ok(())
    }
}
