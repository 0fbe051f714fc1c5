//! Holds: one region keeping another alive because its objects point into
//! it, where the age order alone does not (docs/REGION_RC_MODEL.md, "The
//! global-state region").
//!
//! The age order makes most cross-region pointers safe by construction: an
//! object only points into regions at least as old as its own, and those
//! outlive it. The versions of the global-state region break that: a
//! version is renewed and retired while younger regions still point into
//! it. Each such region *holds* the version: a hold is a 32-byte object
//! `[hdr: Hold][unused][*Region held][finalizer link]` allocated in the
//! holding region and put on its finalizer list, and it owns one external
//! reference on the held region, released when the holding region is
//! reclaimed. A merge splices the finalizer lists, so holds follow the
//! chunks. Holds point one way in time (a region holds state versions that
//! existed before it or were current while it lived) and state versions only
//! hold newer versions, so they form no cycle.

use super::{alloc_object, region_register_finalizer, region_retain, Region, FINAL_LINK_WORD};
use crate::base::value::ObjKind;

/// Word index of the held region in a hold object.
const HELD_WORD: usize = 2;
/// Byte offset of the held region in a hold object (generated code's
/// repeat test, codegen `StateHold`).
pub const HOLD_HELD: i32 = (HELD_WORD * 8) as i32;
const HOLD_BYTES: usize = (FINAL_LINK_WORD + 1) * 8;
const _: () = assert!(HELD_WORD < FINAL_LINK_WORD);

/// Make `holder` keep `held` alive until `holder` is reclaimed. A repeat of
/// the holder's last hold is free; immortal holders and self-holds take none.
///
/// # Safety
/// Both are live regions; `holder` is owned by the calling thread (the hold
/// object is allocated in it); the caller holds a counted reference to `held`
/// (so taking another one is sound).
pub unsafe fn hold(holder: *mut Region, held: *mut Region) {
    // SAFETY: caller contract: both control blocks are live.
    unsafe {
        if holder == held || (*holder).is_global || last_hold(holder) == held {
            return;
        }
        region_retain(held);
        let obj = alloc_object(holder, ObjKind::Hold, HOLD_BYTES);
        obj.add(HELD_WORD).write(held as u64);
        region_register_finalizer(holder, obj);
    }
}

/// The region the newest hold of `r` names (a hold is pushed on the front
/// of the finalizer list), or null.
///
/// # Safety
/// `r` is a live region.
#[inline]
unsafe fn last_hold(r: *mut Region) -> *mut Region {
    // SAFETY: caller contract; the list head is an object of `r`.
    unsafe {
        let head = (*r).finalizers;
        if !head.is_null() && (*head & crate::base::value::KIND_MASK) as u8 == ObjKind::Hold as u8 {
            *head.add(HELD_WORD) as *mut Region
        } else {
            std::ptr::null_mut()
        }
    }
}

/// Drop the reference a hold object owns (its region is being reclaimed).
///
/// # Safety
/// `obj` is a hold object of a region being reclaimed by the caller.
pub(super) unsafe fn release_hold(obj: *mut u64) {
    // SAFETY: caller contract; the hold owns one external reference (none
    // when a merge left it inert: `drop_self_hold`).
    unsafe {
        let held = *obj.add(HELD_WORD) as *mut Region;
        if !held.is_null() {
            super::region_release(held)
        }
    }
}

/// Mark a just-created region as a version of the global-state region:
/// depth 0, so it is older than every scope region and younger than the
/// immortal regions.
///
/// # Safety
/// `r` is a live region nothing points into yet.
pub unsafe fn region_make_state_version(r: *mut Region) {
    // SAFETY: caller contract.
    unsafe {
        (*r).state_version = true;
        (*r).depth = 0;
    }
}

/// Whether `r` is a version (current or retired) of the global-state region.
///
/// # Safety
/// `r` is a readable control block.
#[inline(always)]
pub unsafe fn region_is_state_version(r: *mut Region) -> bool {
    // SAFETY: caller contract; the flag is set before any pointer into `r` exists.
    unsafe { (*r).state_version }
}

/// Whether the caller's one external reference is all that keeps `r` alive
/// (no scope, no tether, no other reference or hold).
///
/// # Safety
/// `r` is live and the caller owns one external reference to it.
pub unsafe fn region_sole_reference(r: *mut Region) -> bool {
    // SAFETY: caller contract.
    unsafe { (*r).liveness.load_snapshot() == super::EXTERNAL_UNIT }
}

/// Call `f` on every region `r` holds.
///
/// # Safety
/// `r` is a live region of the calling thread.
pub unsafe fn for_each_hold(r: *mut Region, f: &mut dyn FnMut(*mut Region)) {
    // SAFETY: caller contract; the finalizer list links objects of `r`.
    unsafe {
        let mut obj = (*r).finalizers;
        while !obj.is_null() {
            if (*obj & crate::base::value::KIND_MASK) as u8 == ObjKind::Hold as u8 {
                f(*obj.add(HELD_WORD) as *mut Region);
            }
            obj = *obj.add(FINAL_LINK_WORD) as *mut u64;
        }
    }
}

/// Mark a just-created region as an activation's pin region.
///
/// # Safety
/// `r` is a live region of the calling thread.
pub unsafe fn region_make_pin(r: *mut Region) {
    // SAFETY: caller contract.
    unsafe { (*r).pin = true }
}

/// Whether `r` is an activation's pin region.
///
/// # Safety
/// `r` is a readable control block.
pub unsafe fn region_is_pin(r: *mut Region) -> bool {
    // SAFETY: caller contract.
    unsafe { (*r).pin }
}

/// A merge moved the hold objects of a region into `r`: a hold of `r` on
/// itself is dropped (its reference released, the object left inert), or
/// the region would keep itself alive.
///
/// # Safety
/// `obj` is a hold object now in `r`'s chunks; `r` is live.
pub(super) unsafe fn drop_self_hold(obj: *mut u64, r: *mut Region) {
    // SAFETY: caller contract.
    unsafe {
        if *obj.add(HELD_WORD) as *mut Region == r {
            obj.add(HELD_WORD).write(0);
            super::region_release(r);
        }
    }
}
