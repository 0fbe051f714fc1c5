//! The store barrier: the one helper through which every pointer store into
//! an existing object goes (docs/REGION_DEPENDENCY_RULES.md).
//!
//! Invariant kept (the older-only store rule, transitive form): nothing
//! reachable from an object points into a region younger than the object's
//! own region, so a region can never be kept alive by — or dangle from — an
//! older one, and region cycles cannot form. A store that would break it is
//! repaired, never refused, by auto-repair policy **H0**:
//!
//! - `region_bytes(R_val) >= merge_threshold` ⇒ **merge**: the stored graph
//!   is scanned (visiting only objects younger than the
//!   container's region `R_dst`) to find every young region it reaches;
//!   those and every open region of the thread between `R_dst` and the
//!   youngest of them are merged into `R_dst` (`region_merge`, O(chunks)
//!   each) and the original value is stored. A merge moves *all* of a
//!   region's objects, and those may point into any older region, hence the
//!   regions in between. All or nothing: if one of them cannot be merged
//!   (different owning thread, already merged elsewhere: `MergeRefusal`),
//!   the store is repaired by transmigration instead.
//! - otherwise ⇒ **transmigrate**: `transmigrate_younger_than(value, R_dst)`
//!   copies every object younger than `R_dst` and the copy is stored.
//!
//! The decision depends only on the configuration and allocation sizes, so it
//! is deterministic. The threshold is the compiled-in `[ctrr]
//! merge_threshold_bytes` (start-up code calls `omni_rt_set_merge_threshold`),
//! overridden at run time by `OMNI_MERGE_THRESHOLD_BYTES`, default
//! [`DEFAULT_MERGE_THRESHOLD_BYTES`].
//!
//! Either way the stored object stays one object: a transmigration turns
//! every original it copied into a forwarding object, so the program's other
//! paths to it (locals, other young objects) resolve to the copy, and a second
//! store of it stores the copy (docs/REGION_DEPENDENCY_RULES.md §5).

use crate::base::atomics::ConfigWord;
use crate::base::stats;
use crate::base::value::{is_ptr, ObjKind, Value, KIND_MASK};
use crate::graph::transmigrate::{transmigrate_younger_than, ForwardTable};
use crate::heap::kinds::metadata;
use crate::heap::object::{is_forwarded, resolve};
use crate::region::{
    for_each_hold, hold, is_older_or_same, merge_permitted, open_regions, region_bytes,
    region_is_pin, region_is_state_version, region_merge, region_of, MergeRefusal, Region,
};
use std::cell::RefCell;

/// Default merge threshold (bytes allocated in the value's region), chosen
/// with `runtime/benches/barrier_bench.rs`; see the doc's "Choosing the
/// threshold".
pub const DEFAULT_MERGE_THRESHOLD_BYTES: u64 = 1 << 20;

/// The run-time override.
pub const MERGE_THRESHOLD_ENV: &str = "OMNI_MERGE_THRESHOLD_BYTES";

// ------------------------------------------------------------ configuration

struct BarrierConfig {
    /// Effective threshold; `UNSET` until first read.
    threshold: ConfigWord,
    /// Compiled-in threshold (`omni_rt_set_merge_threshold`); `UNSET` = none.
    compiled: ConfigWord,
}

/// Sentinel; a configured value of `u64::MAX` is clamped to `u64::MAX - 1`
/// (both mean "never merge" in practice).
const UNSET: u64 = u64::MAX;

crate::base::atomics::runtime_static!(CONFIG: BarrierConfig = BarrierConfig {
    threshold: ConfigWord::new(UNSET),
    compiled: ConfigWord::new(UNSET),
}; fn config);

fn env_threshold() -> Option<u64> {
    std::env::var(MERGE_THRESHOLD_ENV)
        .ok()
        .and_then(|s| s.trim().replace('_', "").parse::<u64>().ok())
        .map(|v| v.min(UNSET - 1))
}

/// Resolve the threshold: env override, else compiled-in, else default.
#[cold]
fn resolve_threshold() -> u64 {
    let compiled = config().compiled.config_load();
    let t = env_threshold().unwrap_or(if compiled != UNSET {
        compiled
    } else {
        DEFAULT_MERGE_THRESHOLD_BYTES
    });
    config().threshold.config_store(t);
    t
}

/// The merge threshold in bytes currently in force.
#[inline]
pub fn merge_threshold() -> u64 {
    let t = config().threshold.config_load();
    if t != UNSET {
        return t;
    }
    resolve_threshold()
}

/// Force the threshold (tests, benchmarks): `Some(bytes)` wins over
/// everything; `None` goes back to env / compiled-in / default.
pub fn set_merge_threshold(bytes: Option<u64>) {
    match bytes {
        Some(b) => config().threshold.config_store(b.min(UNSET - 1)),
        None => {
            config().threshold.config_store(UNSET);
        }
    }
}

/// Called once by generated start-up code with the compiled-in `[ctrr]
/// merge_threshold_bytes`; `OMNI_MERGE_THRESHOLD_BYTES` still overrides it.
#[no_mangle]
pub extern "C" fn omni_rt_set_merge_threshold(bytes: u64) {
    config().compiled.config_store(bytes.min(UNSET - 1));
    config().threshold.config_store(UNSET);
    let _ = resolve_threshold();
}

// ------------------------------------------------------------ the helper

/// What a store needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repair {
    /// Immediate, or already in the container's region or an older one.
    None,
    /// H0 chose transmigration (young region below the threshold).
    Transmigrated,
    /// H0 chose merge: `regions` regions (the young regions the stored
    /// graph reaches and the open regions between them and the container's)
    /// were merged into the container's region.
    Merged { regions: u32 },
    /// H0 chose merge but one of the regions it must take could not be
    /// merged: the store was repaired by transmigration instead.
    MergeRefused(MergeRefusal),
}

/// The result of [`store_into_outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOutcome {
    /// The value to store.
    pub value: Value,
    pub repair: Repair,
}

/// Make `value` storable into an object of region `dst`: returns `value`
/// itself when it already lives in `dst` or an older region (or after its
/// young regions were merged into `dst`), else a copy of its young part in
/// `dst`.
///
/// # Safety
/// `dst` is a live region of the calling thread; `value` is a live value.
#[inline]
pub unsafe fn store_into(dst: *mut Region, value: Value) -> Value {
    // SAFETY: forwarded contract.
    unsafe { store_into_outcome(dst, value).value }
}

/// [`store_into`], also reporting which repair was made.
///
/// # Safety
/// As [`store_into`].
pub unsafe fn store_into_outcome(dst: *mut Region, value: Value) -> StoreOutcome {
    // A forwarded original is never stored: the copy is the object.
    let value = resolve(value);
    if !is_ptr(value) {
        return StoreOutcome {
            value,
            repair: Repair::None,
        };
    }
    // SAFETY: `value` is a live object (caller contract), so it has a region.
    let src = unsafe { region_of(value) };
    // SAFETY: both regions are live.
    if src == dst || unsafe { is_older_or_same(src, dst) } {
        // The value is old enough; its reachable part is too (by induction:
        // every earlier store kept the invariant). A value in a version of
        // the global state, which can be retired, makes the container's
        // region hold that version (versions are kept by the renewal).
        // SAFETY: both regions are live; the container's is this thread's.
        unsafe {
            if src != dst && region_is_state_version(src) {
                if !region_is_state_version(dst) {
                    hold(dst, src);
                } else if dst == crate::graph::state::current_version() {
                    // A value of a retired version into the current one.
                    stats::record_barrier(true);
                    return StoreOutcome {
                        value: crate::graph::transmigrate::transmigrate_into_state(value, dst),
                        repair: Repair::Transmigrated,
                    };
                }
            }
        }
        stats::record_barrier(false);
        return StoreOutcome {
            value,
            repair: Repair::None,
        };
    }
    stats::record_barrier(true);
    // SAFETY: `src` holds a live object; bytes are read on the owning thread
    // (a region reachable from this thread's objects is not allocating
    // concurrently: threading contract, REGION_RC_MODEL.md).
    let young_bytes = unsafe { region_bytes(src) } as u64;
    if young_bytes >= merge_threshold() {
        // SAFETY: forwarded contract.
        unsafe { merge_repair(dst, value) }
    } else {
        StoreOutcome {
            // SAFETY: forwarded contract.
            value: unsafe { transmigrate_younger_than(value, dst).value },
            repair: Repair::Transmigrated,
        }
    }
}

// ------------------------------------------------------------ merge path

/// Per-thread reusable state of the young-region scan.
struct Scan {
    visited: ForwardTable,
    stack: Vec<Value>,
    /// Every young object reached (for the partial-refusal fix-up).
    objects: Vec<Value>,
    /// Young regions reached, in discovery order (the root's first).
    regions: Vec<*mut Region>,
}

thread_local! {
    static SCAN: RefCell<Scan> = RefCell::new(Scan {
        visited: ForwardTable::new(),
        stack: Vec::with_capacity(256),
        objects: Vec::with_capacity(256),
        regions: Vec::with_capacity(4),
    });
}

/// Call `visit` on every value slot of `obj`.
///
/// # Safety
/// `obj` is a live object.
#[inline(always)]
unsafe fn for_each_slot(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    // SAFETY: caller contract; a pair is `[hdr][car][cdr]`.
    unsafe {
        let kind = (*(obj as *const u64) & KIND_MASK) as u8;
        if kind == ObjKind::Pair as u8 {
            let p = obj as *mut Value;
            visit(p.add(1));
            visit(p.add(2));
        } else {
            (metadata(kind).trace)(obj, visit);
        }
    }
}

/// Walk of the part of `root`'s graph younger than `dst` (it writes only to point slots that name forwarded originals at their copies): fills
/// `s.regions` and `s.objects`. No allocation in regions.
///
/// # Safety
/// `root` is live; `dst` a live region.
unsafe fn scan_young(s: &mut Scan, root: Value, dst: *mut Region) {
    s.visited.reset();
    s.stack.clear();
    s.objects.clear();
    s.regions.clear();
    s.stack.push(root);
    while let Some(v) = s.stack.pop() {
        let v = resolve(v);
        // SAFETY: `v` is reachable from a live value, hence live.
        unsafe {
            if !is_ptr(v) {
                continue;
            }
            let r = region_of(v);
            if is_older_or_same(r, dst) || s.visited.get(v).is_some() {
                continue;
            }
            s.visited.insert(v, 1);
            s.objects.push(v);
            if !s.regions.contains(&r) {
                s.regions.push(r);
            }
            let stack = &mut s.stack;
            for_each_slot(v, &mut |slot| {
                // A slot still naming a forwarded original is pointed at the
                // copy: `v` may be merged into an older region, and must not
                // keep a pointer into a young region that is not merged.
                if is_forwarded(*slot) {
                    *slot = resolve(*slot);
                }
                stack.push(*slot)
            });
        }
    }
}

/// H0's "large" branch: merge into `dst` every young region the stored
/// graph reaches *and every open region of this thread between `dst` and the
/// youngest of them* in the age order. The latter matters because a merge
/// moves all of a region's objects, not only the stored graph: an object of
/// a merged region may point into any region older than its own, and after
/// the merge it must not point into anything younger than `dst`. All or
/// nothing: if any of these regions refuses (another thread's, already
/// merged elsewhere), nothing is merged and the store is repaired by
/// transmigration.
///
/// # Safety
/// As [`store_into`]; `value` is younger than `dst`.
unsafe fn merge_repair(dst: *mut Region, value: Value) -> StoreOutcome {
    SCAN.with(|cell| {
        let mut guard = cell.borrow_mut();
        let s = &mut *guard;
        // SAFETY: forwarded contract.
        unsafe { scan_young(s, value, dst) };
        // SAFETY: the scanned regions and this thread's open regions are
        // live control blocks of this thread (or refuse the merge below).
        unsafe {
            let youngest =
                s.regions
                    .iter()
                    .copied()
                    .reduce(|a, b| if is_older_or_same(a, b) { b } else { a });
            let open = open_regions();
            let mut take = s.regions.clone();
            if let Some(youngest) = youngest {
                for &r in &open {
                    // A pin region holds no objects, only state versions:
                    // never merged (its holds would move to `dst`).
                    let between = r != dst
                        && !region_is_pin(r)
                        && !is_older_or_same(r, dst)
                        && is_older_or_same(r, youngest);
                    if between && !take.contains(&r) {
                        take.push(r);
                    }
                }
            }
            if let Some(why) = take.iter().find_map(|&r| merge_permitted(r, dst).err()) {
                return fallback(dst, value, why);
            }
            // A merged region may hold pointers into versions of the global
            // state that only a running activation's pin protects: the
            // destination holds every version a pin of this thread holds
            // (a superset; holds are cheap). Into a state version, the
            // renewal's retired set covers them instead.
            if !region_is_state_version(dst) {
                for &r in open.iter().filter(|&&r| region_is_pin(r)) {
                    for_each_hold(r, &mut |v| {
                        if region_is_state_version(v) {
                            hold(dst, v)
                        }
                    });
                }
            }
            for &r in &take {
                if let Err(why) = region_merge(r, dst) {
                    // `merge_permitted` said yes a moment ago on this thread.
                    crate::base::fatal::fatal(format_args!(
                        "merge refused after the check: {why:?}"
                    ));
                }
            }
            // A scan of a large graph gives its tables' memory back.
            s.visited.shrink_if_large();
            if s.objects.capacity() > 1 << 16 {
                s.objects = Vec::new();
            }
            StoreOutcome {
                value,
                repair: Repair::Merged {
                    regions: take.len() as u32,
                },
            }
        }
    })
}

fn fallback(dst: *mut Region, value: Value, why: MergeRefusal) -> StoreOutcome {
    StoreOutcome {
        // SAFETY: `dst` is live (store contract) and `value` is unchanged.
        value: unsafe { transmigrate_younger_than(value, dst).value },
        repair: Repair::MergeRefused(why),
    }
}

// ------------------------------------------------------------ C ABI

/// The store helper for a store of `value` into a field of `container`;
/// returns the value to store.
///
/// # Safety
/// `container` is a live heap object, `value` a live value, both of this thread.
#[no_mangle]
pub unsafe extern "C" fn omni_store_barrier(container: Value, value: Value) -> Value {
    let container = resolve(container);
    // SAFETY: the container is a live object, so its region is readable.
    // A spawned thread may not mutate another thread's object
    // (docs/REGION_THREADING_MODEL.md).
    unsafe { crate::region::owner::check_store_target(region_of(container)) };
    if !is_ptr(value) {
        return value;
    }
    // SAFETY: the container is a live object.
    unsafe { store_into(region_of(container), value) }
}

/// The store helper for a store of `value` into a global variable by a
/// top-level definition (the global-state region is the container; `set!`
/// elsewhere goes through `rt::state_abi::omni_global_set`).
///
/// # Safety
/// `value` is a live value of this thread.
#[no_mangle]
pub unsafe extern "C" fn omni_global_store(value: Value) -> Value {
    let state = crate::graph::state::state_region();
    // SAFETY: the current state version is a readable control block. Only
    // the program thread owns it (docs/REGION_THREADING_MODEL.md).
    unsafe { crate::region::owner::check_store_target(state) };
    // SAFETY: the current state version is live.
    unsafe { store_into(state, value) }
}
