//! DWARF for built executables: one compile unit whose line table maps
//! every generated function's machine code back to `.omni` file:line:col,
//! and one `DW_TAG_subprogram` per function (its OmniLisp symbol name), so
//! `gdb` shows source lines in backtraces and `break prog.omni:12` works.
//!
//! The rows come from the code table (`code_table.rs`: each function's
//! code offsets where the statement's `LocId` changes). Addresses are
//! relocations against the functions' symbols and section offsets against
//! the sections' symbols, written by gimli's `write` API into the object
//! file before it is emitted. `omnic build --strip` leaves this out.

use super::code_table::TableEntry;
use super::{CodegenError, Result};
use crate::ir::SourceLoc;
use cranelift_codegen::gimli::write::{
    Address, AttributeValue, DwarfUnit, EndianVec, FileId, LineProgram, LineString, Range,
    RangeList, Sections, Writer,
};
use cranelift_codegen::gimli::{self, Encoding, Format, LineEncoding, RunTimeEndian, SectionId};
use cranelift_object::object::write::{Object, Relocation, StandardSegment, SymbolId};
use cranelift_object::object::{RelocationEncoding, RelocationFlags, RelocationKind, SectionKind};
use cranelift_object::ObjectProduct;
use std::collections::HashMap;

/// What a relocation in a DWARF section points at.
#[derive(Clone, Copy)]
enum Target {
    /// A function symbol (index into the product's function list).
    Symbol(usize),
    /// Another DWARF section (an offset into it).
    Section(SectionId),
}

#[derive(Clone)]
struct Reloc {
    offset: u32,
    size: u8,
    target: Target,
    addend: i64,
}

/// A gimli writer that records relocations instead of resolving addresses.
#[derive(Clone)]
struct RelocWriter {
    bytes: EndianVec<RunTimeEndian>,
    relocs: Vec<Reloc>,
}

impl Writer for RelocWriter {
    type Endian = RunTimeEndian;

    fn endian(&self) -> RunTimeEndian {
        self.bytes.endian()
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn write(&mut self, bytes: &[u8]) -> gimli::write::Result<()> {
        self.bytes.write(bytes)
    }

    fn write_at(&mut self, offset: usize, bytes: &[u8]) -> gimli::write::Result<()> {
        self.bytes.write_at(offset, bytes)
    }

    fn write_address(&mut self, address: Address, size: u8) -> gimli::write::Result<()> {
        match address {
            Address::Constant(v) => self.write_udata(v, size),
            Address::Symbol { symbol, addend } => {
                self.relocs.push(Reloc {
                    offset: self.len() as u32,
                    size,
                    target: Target::Symbol(symbol),
                    addend,
                });
                self.write_udata(0, size)
            }
        }
    }

    fn write_offset(
        &mut self,
        val: usize,
        section: SectionId,
        size: u8,
    ) -> gimli::write::Result<()> {
        self.relocs.push(Reloc {
            offset: self.len() as u32,
            size,
            target: Target::Section(section),
            addend: val as i64,
        });
        self.write_udata(0, size)
    }

    fn write_offset_at(
        &mut self,
        offset: usize,
        val: usize,
        section: SectionId,
        size: u8,
    ) -> gimli::write::Result<()> {
        self.relocs.push(Reloc {
            offset: offset as u32,
            size,
            target: Target::Section(section),
            addend: val as i64,
        });
        self.write_udata_at(offset, 0, size)
    }
}

fn dwarf_error(e: impl std::fmt::Display) -> CodegenError {
    CodegenError::new(format!("writing DWARF: {e}"))
}

/// Add `.debug_info`, `.debug_abbrev`, `.debug_line` (and the string and
/// range sections they need) for `functions` to the object. `main_file` is
/// the program's source as given on the command line.
pub fn add_debug_info(
    product: &mut ObjectProduct,
    functions: &[TableEntry],
    locs: &[SourceLoc],
    main_file: &str,
) -> Result<()> {
    let encoding = Encoding {
        format: Format::Dwarf32,
        version: 4,
        address_size: 8,
    };
    let mut dwarf = DwarfUnit::new(encoding);
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut program = LineProgram::new(
        encoding,
        LineEncoding::default(),
        LineString::new(cwd.as_bytes(), encoding, &mut dwarf.line_strings),
        None,
        LineString::new(main_file.as_bytes(), encoding, &mut dwarf.line_strings),
        None,
    );
    let dir = program.default_directory();
    let mut files: HashMap<&str, FileId> = HashMap::new();
    let symbols: Vec<SymbolId> = functions
        .iter()
        .map(|f| product.function_symbol(f.func))
        .collect();
    let mut ranges = Vec::new();
    let root = dwarf.unit.root();
    for (i, f) in functions.iter().enumerate() {
        if f.size == 0 {
            continue;
        }
        let start = Address::Symbol {
            symbol: i,
            addend: 0,
        };
        ranges.push(Range::StartLength {
            begin: start,
            length: u64::from(f.size),
        });
        let sub = dwarf.unit.add(root, gimli::DW_TAG_subprogram);
        let name = dwarf.strings.add(f.symbol.as_bytes());
        let die = dwarf.unit.get_mut(sub);
        die.set(gimli::DW_AT_name, AttributeValue::StringRef(name));
        die.set(gimli::DW_AT_low_pc, AttributeValue::Address(start));
        die.set(
            gimli::DW_AT_high_pc,
            AttributeValue::Udata(u64::from(f.size)),
        );
        if f.lines.is_empty() {
            continue;
        }
        program.begin_sequence(Some(start));
        for &(offset, loc) in &f.lines {
            let Some(l) = locs.get(loc as usize) else {
                continue;
            };
            let file = *files.entry(l.file.as_str()).or_insert_with(|| {
                let name = LineString::new(l.file.as_bytes(), encoding, &mut dwarf.line_strings);
                program.add_file(name, dir, None)
            });
            let row = program.row();
            row.address_offset = u64::from(offset);
            row.file = file;
            row.line = u64::from(l.line);
            row.column = u64::from(l.col);
            program.generate_row();
        }
        program.end_sequence(u64::from(f.size));
    }
    dwarf.unit.line_program = program;
    let range_list = dwarf.unit.ranges.add(RangeList(ranges));
    let producer = dwarf.strings.add("omnic");
    let name = dwarf.strings.add(main_file.as_bytes());
    let comp_dir = dwarf.strings.add(cwd.as_bytes());
    let die = dwarf.unit.get_mut(root);
    die.set(gimli::DW_AT_producer, AttributeValue::StringRef(producer));
    die.set(gimli::DW_AT_name, AttributeValue::StringRef(name));
    die.set(gimli::DW_AT_comp_dir, AttributeValue::StringRef(comp_dir));
    // Not a registered language: 0x8000 is the start of the user range.
    die.set(
        gimli::DW_AT_language,
        AttributeValue::Language(gimli::DwLang(0x8000)),
    );
    die.set(
        gimli::DW_AT_low_pc,
        AttributeValue::Address(Address::Constant(0)),
    );
    die.set(
        gimli::DW_AT_ranges,
        AttributeValue::RangeListRef(range_list),
    );

    let mut sections = Sections::new(RelocWriter {
        bytes: EndianVec::new(RunTimeEndian::Little),
        relocs: Vec::new(),
    });
    dwarf.write(&mut sections).map_err(dwarf_error)?;
    write_sections(&mut product.object, &sections, &symbols)
}

/// Copy the written sections into the object with their relocations.
fn write_sections(
    object: &mut Object<'static>,
    sections: &Sections<RelocWriter>,
    symbols: &[SymbolId],
) -> Result<()> {
    let mut ids = HashMap::new();
    sections.for_each(|id, w| -> std::result::Result<(), CodegenError> {
        if w.bytes.len() > 0 {
            let section = object.add_section(
                object.segment_name(StandardSegment::Debug).to_vec(),
                id.name().as_bytes().to_vec(),
                SectionKind::Debug,
            );
            object.set_section_data(section, w.bytes.slice().to_vec(), 1);
            ids.insert(id, section);
        }
        Ok(())
    })?;
    sections.for_each(|id, w| -> std::result::Result<(), CodegenError> {
        let Some(&section) = ids.get(&id) else {
            return Ok(());
        };
        for r in &w.relocs {
            let (symbol, addend) = match r.target {
                Target::Symbol(i) => (symbols[i], r.addend),
                Target::Section(target) => {
                    let Some(&s) = ids.get(&target) else {
                        return Err(dwarf_error(format!(
                            "reference to the empty section {}",
                            target.name()
                        )));
                    };
                    (object.section_symbol(s), r.addend)
                }
            };
            object
                .add_relocation(
                    section,
                    Relocation {
                        offset: u64::from(r.offset),
                        symbol,
                        addend,
                        flags: RelocationFlags::Generic {
                            kind: RelocationKind::Absolute,
                            encoding: RelocationEncoding::Generic,
                            size: r.size * 8,
                        },
                    },
                )
                .map_err(dwarf_error)?;
        }
        Ok(())
    })?;
    Ok(())
}
