//! Region merge: the store barrier's answer to "a large young graph must
//! live as long as an older region". Instead of copying, the young region's
//! chunks are spliced into the old region's chunk list and each chunk
//! descriptor is re-pointed at the old region, so every object already
//! allocated in the young region now *belongs* to the old one (`region_of`
//! says so) — in time proportional to the number of chunks, independent of
//! the number of objects.
//!
//! The young region lives on: it keeps allocating into fresh chunks of its
//! own and holds one external reference on the old region (its forwarded
//! identity: whoever keeps the young region alive keeps the merged objects
//! alive), dropped when the young region is reclaimed. Every chunk is a
//! separate allocation, so the young control block owns nothing the old
//! region uses and is recycled as soon as the young region is reclaimed.

use super::{fatal, is_older_or_same, retire_current, Region, RegionId};
use crate::base::stats::{self, Counter};
use crate::base::value::ObjKind;
use std::ptr::null_mut;

/// Why a merge was not performed (the barrier then transmigrates instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeRefusal {
    SameRegion,
    /// The global region is never merged into anything.
    YoungIsGlobal,
    /// `old` is not older than `young` in the age order.
    NotOlder,
    /// The regions belong to different threads.
    DifferentOwners,
    /// `young` was already merged into another region.
    AlreadyMergedElsewhere,
    /// One of the regions has been reclaimed.
    NotAlive,
}

/// Merge `young` into `old`: afterwards every object allocated in `young` so
/// far belongs to `old`. O(number of chunks of `young`).
///
/// # Safety
/// Both are regions owned by the calling thread (or `old` is the global
/// region) and still readable.
pub unsafe fn region_merge(young: *mut Region, old: *mut Region) -> Result<(), MergeRefusal> {
    // SAFETY: forwarded contract.
    let moved = unsafe { region_absorb(young, old)? };
    stats::count(Counter::Merges, 1);
    stats::count(Counter::MergedChunks, moved as u64);
    Ok(())
}

/// `region_merge` without counting it as a store repair (a loop's carry
/// region handed to the loop's result region at exit); returns the number of
/// chunks moved.
///
/// # Safety
/// As `region_merge`.
pub unsafe fn region_absorb(young: *mut Region, old: *mut Region) -> Result<u32, MergeRefusal> {
    // SAFETY: forwarded contract.
    unsafe { merge_permitted(young, old)? };
    // SAFETY: caller contract: both control blocks are readable and owned by
    // this thread, so no one else mutates their chunk lists.
    unsafe {
        let y = &mut *young;
        let o = &mut *old;

        retire_current(y);
        let mut moved = 0u32;
        let mut tail = null_mut();
        let mut c = y.chunks;
        while !c.is_null() {
            (*c).region = old;
            tail = c;
            moved += 1;
            c = (*c).next;
        }
        if !tail.is_null() {
            (*tail).next = o.chunks;
            o.chunks = y.chunks;
        }
        y.chunks = null_mut();
        // The young region's finalizable objects now lie in the old
        // region's chunks: they go to its list.
        let mut f = y.finalizers;
        if !f.is_null() {
            loop {
                if (*f & crate::base::value::KIND_MASK) as u8 == ObjKind::Hold as u8 {
                    super::hold::drop_self_hold(f, old);
                }
                let next = *f.add(super::FINAL_LINK_WORD) as *mut u64;
                if next.is_null() {
                    break;
                }
                f = next;
            }
            *f.add(super::FINAL_LINK_WORD) = o.finalizers as u64;
            o.finalizers = y.finalizers;
            y.finalizers = null_mut();
        }
        o.retired_bytes += y.retired_bytes;
        y.retired_bytes = 0;
        o.held_bytes += y.held_bytes;
        y.held_bytes = 0;
        o.chunk_count += moved;
        y.chunk_count = 0;
        // The young region continues in fresh chunks of its own.
        y.bump = null_mut();
        y.limit = null_mut();
        y.current_chunk = null_mut();
        y.current_start = null_mut();

        // Merged into an older version of the global state before
        // (merge_permitted): its reference on it is dropped once the new one
        // is taken. What its objects point to there is kept by the
        // renewal's retired set until a renewal has copied it out
        // (docs/REGION_RC_MODEL.md, "The global-state region").
        let renewed = if !y.merged_into.is_null() && y.merged_into != old {
            std::mem::replace(&mut y.merged_into, null_mut())
        } else {
            null_mut()
        };
        if y.merged_into.is_null() {
            let prev = o.liveness.rc_increment(super::EXTERNAL_UNIT);
            if prev == 0 {
                fatal(format_args!(
                    "merge into reclaimed region {}",
                    RegionId(o.id)
                ));
            }
            y.merged_into = old;
        }
        if !renewed.is_null() {
            super::region_release(renewed);
        }
        Ok(moved)
    }
}

/// Whether `region_merge(young, old)` would merge (it changes nothing).
///
/// # Safety
/// As `region_merge`.
pub unsafe fn merge_permitted(young: *mut Region, old: *mut Region) -> Result<(), MergeRefusal> {
    if young == old {
        return Err(MergeRefusal::SameRegion);
    }
    // SAFETY: caller contract: both control blocks are readable.
    unsafe {
        let y = &*young;
        let o = &*old;
        if y.liveness.load_snapshot() == 0 || o.liveness.load_snapshot() == 0 {
            return Err(MergeRefusal::NotAlive);
        }
        if y.is_global {
            return Err(MergeRefusal::YoungIsGlobal);
        }
        if !is_older_or_same(old, young) {
            return Err(MergeRefusal::NotOlder);
        }
        if !o.is_global && o.owner != y.owner {
            return Err(MergeRefusal::DifferentOwners);
        }
        // A region merged into a version of the global state that has since
        // been renewed may merge into the current version (`region_absorb`).
        let renewed = !y.merged_into.is_null() && (*y.merged_into).state_version && o.state_version;
        if !y.merged_into.is_null() && y.merged_into != old && !renewed {
            return Err(MergeRefusal::AlreadyMergedElsewhere);
        }
    }
    Ok(())
}

/// C ABI for `region_merge`: true if merged, false if refused.
///
/// # Safety
/// As `region_merge`.
#[no_mangle]
pub unsafe extern "C" fn omni_region_merge(young: *mut Region, old: *mut Region) -> bool {
    // SAFETY: forwarded contract.
    unsafe { region_merge(young, old).is_ok() }
}
