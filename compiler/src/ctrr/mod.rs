//! CTRR: Compile-Time Region Reclamation — decides the region of every
//! allocation site. (Foundation version: every site goes to the global region.)

use crate::ir::{Program, RegionRef};

/// Annotate every allocation site of `prog` with its region.
pub fn run(prog: &mut Program) {
    for site in &mut prog.alloc_sites {
        site.region = RegionRef::Global;
        site.reason = "foundation placement: global region".into();
    }
}
