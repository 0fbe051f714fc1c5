//! The region entry points generated code calls (`omni_region_*`). They sit
//! above the coroutines because creating or exiting a scope region must be
//! recorded in the running coroutine (`note_region_open`/`note_region_exit`),
//! so that abandoning a suspended coroutine can exit the scopes it left
//! open. The region floor itself knows nothing of coroutines.

use crate::control::coroutine::{note_region_exit, note_region_open};
use crate::region::{
    global_region, region_create, region_create_at, region_exit, region_release, region_retain,
    AllocSite, Region,
};

/// Create a fresh region for a scope.
#[no_mangle]
pub extern "C" fn omni_region_create() -> *mut Region {
    let r = region_create();
    note_region_open(r);
    r
}

/// Create a fresh region for a scope, remembering its source location.
#[no_mangle]
pub extern "C" fn omni_region_create_at(site: u32) -> *mut Region {
    let r = region_create_at(AllocSite(site));
    note_region_open(r);
    r
}

/// Exit a region's scope.
///
/// # Safety
/// As `region_exit`: `r` is a live scope region of the calling thread,
/// exited once (generated code exits each region it created exactly once).
#[no_mangle]
pub unsafe extern "C" fn omni_region_exit(r: *mut Region) {
    note_region_exit(r);
    // SAFETY: forwarded contract.
    unsafe { region_exit(r) }
}

/// Take an external reference on a region.
///
/// # Safety
/// As `region_retain`.
#[no_mangle]
pub unsafe extern "C" fn omni_region_retain(r: *mut Region) {
    // SAFETY: forwarded contract.
    unsafe { region_retain(r) }
}

/// Drop an external reference on a region.
///
/// # Safety
/// As `region_release`.
#[no_mangle]
pub unsafe extern "C" fn omni_region_release(r: *mut Region) {
    // SAFETY: forwarded contract.
    unsafe { region_release(r) }
}

/// The global region, for generated code.
#[no_mangle]
pub extern "C" fn omni_rt_global_region() -> *mut Region {
    global_region()
}
