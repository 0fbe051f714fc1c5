//! The global-state region: where the values of global variables, and what
//! is stored into them and into the containers they hold, live — renewed
//! when its garbage has outgrown its live part, so a program that keeps
//! updating long-lived state runs in memory proportional to that state
//! (LANGUAGE.md §6; docs/REGION_RC_MODEL.md, "The global-state region").
//!
//! The constants, type objects and the closures of top-level functions stay
//! in the immortal global region; everything CTRR places at the global
//! lifetime goes here. The region has *versions*: the current one, where
//! new global state is allocated, and retired ones. A **renewal** copies
//! what the global variables reach in any version into a fresh one,
//! forwarding every original (so every path to an object still finds the
//! one object), makes the fresh one current and retires the old one.
//!
//! Who may still point into a retired version, and what keeps it alive:
//! - running activations that loaded from a global: *pins* (a per-activation
//!   region holding every version the activation loaded, rt/state_abi.rs);
//! - objects of other regions: *holds* (region/hold.rs), taken by the store
//!   barrier, by transmigration (copies that keep a pointer into a version)
//!   and by generated code where a loaded value escapes to the result region;
//! - a retired version's forwarding objects: every renewal re-aims the
//!   forwarding objects of the retired versions still alive at the new
//!   version (copying what they lead to, as roots), so a version never needs
//!   its successors, and only the versions still referenced stay;
//! - the current version may point into retired ones (objects built from
//!   pinned values): the renewal keeps every retired version in its
//!   *retired set* until a renewal has copied out what the globals reach in
//!   it and nothing else references it;
//! - objects of a version never point into a retired version that only a
//!   finished activation kept: generated code *refreshes* (`refresh`) a
//!   value read before a renewal before building it into a new object, and
//!   the result of a call that may renew (built, perhaps, in a version
//!   retired during the call); until that refresh, `pin_ended` releases
//!   nothing while a retired version has grown since the last renewal.
//!
//! Renewals happen at safe points (after `set!` of a global and after a
//! store primitive), on the program thread, and only while no spawned
//! thread runs (spawned threads read globals without pins).

use crate::base::atomics::{ConfigWord, PublishedPtr};
use crate::base::stats::{self, Counter};
use crate::base::value::{is_ptr, Value, FORWARD_TARGET};
use crate::graph::transmigrate::renew_state_roots;
use crate::region::{
    hold, owner, region_bytes, region_cap_chunks, region_create, region_exit,
    region_is_state_version, region_make_state_version, region_of, region_release, region_retain,
    region_sole_reference, Region,
};
use std::cell::RefCell;
use std::sync::Mutex;

thread_local! {
    /// Per retired state version still alive: its forwarding objects (the
    /// originals a renewal or a store repair copied out of it). Program
    /// thread only: only it moves objects out of state versions.
    static FORWARDERS: RefCell<Vec<(*mut Region, Vec<Value>)>> = const { RefCell::new(Vec::new()) };
}

/// Record that the `originals`, in state versions, were just forwarded (a
/// renewal forwards out of one or a few versions: consecutive originals
/// nearly always share a version).
pub fn note_forwarded(originals: &[Value]) {
    FORWARDERS.with(|f| {
        let mut f = f.borrow_mut();
        let mut last: Option<usize> = None;
        for &v in originals {
            // SAFETY: a forwarded original keeps its chunk bits (object.rs).
            let r = unsafe { region_of(v) };
            let i = match last {
                Some(i) if f[i].0 == r => i,
                _ => match f.iter().position(|(k, _)| *k == r) {
                    Some(i) => i,
                    None => {
                        f.push((r, Vec::new()));
                        f.len() - 1
                    }
                },
            };
            f[i].1.push(v);
            last = Some(i);
        }
    })
}

/// The recorded forwarding objects of state version `r`.
fn forwarders_of(f: &[(*mut Region, Vec<Value>)], r: *mut Region) -> &[Value] {
    f.iter()
        .find(|(k, _)| *k == r)
        .map(|(_, l)| l.as_slice())
        .unwrap_or(&[])
}

/// Smallest renewal limit: below this the current version is never renewed.
pub const STATE_MIN_BYTES: usize = 64 << 10;
/// The renewal limit is this many times the bytes the last renewal copied.
pub const STATE_GROWTH: usize = 2;

crate::base::atomics::runtime_static!(CURRENT: PublishedPtr<Region> = PublishedPtr::new(); fn current_cell);

/// What only the program thread reads and writes.
struct StateCtl {
    /// The global variables' slots (registered by the start-up code).
    roots: *mut Value,
    nroots: usize,
    /// Retired versions the renewal still references.
    retired: Vec<*mut Region>,
    /// Their bytes at the end of the last renewal: a retired version can
    /// still be allocated into (the result region of a call made before
    /// the renewal), and what is built there may point into the version
    /// a pin held.
    retired_bytes: Vec<usize>,
    /// The version the last renewal retired while something still pinned
    /// it, the version it made current and that version's bytes right
    /// after the copy: while those bytes are unchanged, no object of the
    /// current version can point into the retired one.
    clean: Option<(*mut Region, *mut Region, usize)>,
}

// SAFETY: the raw pointers are only dereferenced on the program thread.
unsafe impl Send for StateCtl {}

static CTL: Mutex<StateCtl> = Mutex::new(StateCtl {
    roots: std::ptr::null_mut(),
    nroots: 0,
    retired: Vec::new(),
    retired_bytes: Vec::new(),
    clean: None,
});

// Renew when the current version holds this many bytes (read by every safe
// point without the lock; written by the renewal).
crate::base::atomics::runtime_static!(LIMIT: ConfigWord = ConfigWord::new(STATE_MIN_BYTES as u64); fn limit_word);

fn ctl() -> std::sync::MutexGuard<'static, StateCtl> {
    CTL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current version of the global-state region (created on first use, by
/// the program thread: the start-up code registers the globals first).
pub fn state_region() -> *mut Region {
    let r = current_cell().ptr_load();
    if !r.is_null() {
        return r;
    }
    new_current()
}

#[cold]
fn new_current() -> *mut Region {
    let _guard = ctl();
    let r = current_cell().ptr_load();
    if !r.is_null() {
        return r;
    }
    let r = new_version();
    current_cell().ptr_replace(r);
    r
}

/// A fresh state version, alive through one external reference (the
/// current/retired-set reference), not an open scope of the thread.
fn new_version() -> *mut Region {
    let r = region_create();
    // SAFETY: `r` was just created by this thread; nothing points into it.
    unsafe {
        region_make_state_version(r);
        region_retain(r);
        region_exit(r);
    }
    r
}

/// Register the global variables' slots: the renewal's roots.
///
/// # Safety
/// `base` points to `n` value slots that stay valid for the program.
pub unsafe fn register_roots(base: *mut Value, n: usize) {
    let mut c = ctl();
    c.roots = base;
    c.nroots = n;
}

/// Renew the current version if it has outgrown its limit and renewing is
/// safe now (the program thread, no spawned thread running).
pub fn safepoint() {
    let cur = current_cell().ptr_load();
    if cur.is_null() {
        return;
    }
    // SAFETY: the current version is alive (the current reference).
    let bytes = unsafe { region_bytes(cur) };
    if (bytes as u64) < limit_word().config_load() {
        return;
    }
    if owner::is_spawned_thread() || owner::live_spawned_threads() != 0 {
        return;
    }
    let mut c = ctl();
    // SAFETY: the program thread with no other thread running: nothing
    // else reads or writes the global state.
    unsafe { renew(&mut c, cur) };
}

/// The safe point of a global's first binding (`define`): the current
/// version grew by the defined value, which is live (nothing was replaced),
/// so instead of renewing — copying the whole value at once, with the
/// original and the copy both held at the peak — the limit grows to
/// `STATE_GROWTH` times the version's bytes when they have reached it. A
/// later `set!` renews as usual once the state outgrows that. rbtree's
/// `(define tree (build ...))` copied its 70 MB tree, cfold's `e` was
/// copied twice.
pub fn definition_point() {
    let cur = current_cell().ptr_load();
    if cur.is_null() {
        return;
    }
    // SAFETY: the current version is alive (the current reference).
    let bytes = unsafe { region_bytes(cur) } as u64;
    let limit = limit_word().config_load();
    if bytes >= limit {
        limit_word().config_store(bytes.saturating_mul(STATE_GROWTH as u64));
    }
}

/// Copy what the globals reach into a fresh version and make it current.
///
/// # Safety
/// Called on the program thread while no spawned thread runs; every object
/// reachable from the roots is live (pins, holds and the retired set keep
/// what they point into).
unsafe fn renew(c: &mut StateCtl, old: *mut Region) {
    let new = new_version();
    // A version's size stays near its limit: chunks of a sixteenth of it
    // keep the unused tail small (as for a loop's carry region).
    let cap = |limit: u64| ((limit / 16) as usize).max(16 << 10);
    // SAFETY: `new` is this thread's and fresh.
    unsafe { region_cap_chunks(new, cap(limit_word().config_load())) };
    // Roots: the globals, then the targets of the forwarding objects of the
    // retired versions something still references (a pin or a hold; they
    // are re-aimed at their copies below). A version only the retired set
    // references is released after the copy: nothing reaches its
    // forwarding objects any more.
    // SAFETY: the retired set owns one external reference to each.
    let referenced: Vec<*mut Region> = c
        .retired
        .iter()
        .copied()
        .filter(|&r| !unsafe { region_sole_reference(r) })
        .collect();
    let forwarders: Vec<Value> = FORWARDERS.with(|f| {
        let f = f.borrow();
        referenced
            .iter()
            .flat_map(|&r| forwarders_of(&f, r))
            .copied()
            .collect()
    });
    let mut roots: Vec<Value> = Vec::with_capacity(c.nroots + forwarders.len());
    // SAFETY: caller contract: the slots are the registered globals, and a
    // recorded forwarding object lives in a retired version still alive.
    let bytes = unsafe {
        let slots = std::slice::from_raw_parts_mut(c.roots, c.nroots);
        roots.extend_from_slice(slots);
        roots.extend(forwarders.iter().map(|&f| forward_target(f)));
        let (_, bytes) = renew_state_roots(&mut roots, new);
        slots.copy_from_slice(&roots[..c.nroots]);
        for (&f, &t) in forwarders.iter().zip(&roots[c.nroots..]) {
            set_forward_target(f, t);
        }
        bytes
    };
    current_cell().ptr_replace(new);
    c.clean = None;
    clean_cell().ptr_replace(std::ptr::null_mut());
    // Retired versions nothing else references can go now: what the
    // globals reach in them was just copied out.
    let mut keep = Vec::with_capacity(referenced.len() + 1);
    for r in c.retired.drain(..) {
        if referenced.contains(&r) {
            keep.push(r);
        } else {
            // SAFETY: as above.
            unsafe { release_retired(r) };
        }
    }
    c.retired = keep;
    // The old version: nothing can have built an object of the new version
    // pointing into it yet, so if nothing references it (no activation
    // pinned it), it goes now; otherwise when its last pin ends, if the new
    // version is still exactly the copy (`pin_ended`), or at a later renewal.
    // SAFETY: `old` was the current version: the current reference is ours.
    if unsafe { region_sole_reference(old) } {
        // SAFETY: as above.
        unsafe { release_retired(old) };
    } else {
        c.retired.push(old);
        // SAFETY: `new` is the current version.
        c.clean = Some((old, new, unsafe { region_bytes(new) }));
        clean_cell().ptr_replace(old);
    }
    c.retired_bytes.clear();
    for &r in &c.retired {
        // SAFETY: the retired set owns a reference to each.
        c.retired_bytes.push(unsafe { region_bytes(r) });
    }
    let limit = (bytes * STATE_GROWTH as u64).max(STATE_MIN_BYTES as u64);
    limit_word().config_store(limit);
    // SAFETY: as above.
    unsafe { region_cap_chunks(new, cap(limit)) };
    stats::count(Counter::Renewals, 1);
    stats::count(Counter::RenewedBytes, bytes);
}

/// Drop the retired set's reference to `r` (and its forwarding records).
///
/// # Safety
/// The retired set owned one external reference to `r`, now removed from it.
unsafe fn release_retired(r: *mut Region) {
    FORWARDERS.with(|f| f.borrow_mut().retain(|(k, _)| *k != r));
    // SAFETY: caller contract.
    unsafe { region_release(r) };
}

/// A pin that held the retired versions `held` has just ended: a version
/// the last renewal retired goes now if nothing references it any more and
/// the current version is still exactly the copy the renewal made (so no
/// object of it was built from values of the retired one).
pub fn pin_ended(retired: *mut Region) {
    let mut c = ctl();
    let Some((old, cur, bytes)) = c.clean else {
        return;
    };
    if old != retired || current_cell().ptr_load() != cur {
        return;
    }
    // SAFETY: `cur` is the current version; `old` is in the retired set,
    // which owns a reference to it.
    unsafe {
        if region_bytes(cur) != bytes || !region_sole_reference(old) {
            return;
        }
        // Nor may anything have been built in another retired version
        // since (from values of `old`, which the caller then refreshes).
        let grown = c
            .retired
            .iter()
            .zip(&c.retired_bytes)
            .any(|(&r, &b)| region_bytes(r) != b);
        if grown {
            return;
        }
        let i = c.retired.iter().position(|&r| r == old);
        if let Some(i) = i {
            c.retired.remove(i);
            c.retired_bytes.remove(i);
        }
        c.clean = None;
        clean_cell().ptr_replace(std::ptr::null_mut());
        release_retired(old);
    }
}

// The version `StateCtl::clean` names, readable without the lock (null:
// none); only the program thread writes it.
crate::base::atomics::runtime_static!(CLEAN: PublishedPtr<Region> = PublishedPtr::new(); fn clean_cell);

/// The version the last renewal retired while it was pinned, if it may
/// still be released when its pins end (null otherwise).
pub fn retired_while_pinned() -> *mut Region {
    clean_cell().ptr_load()
}

/// `v`, or its copy in the current version when it is an object of a
/// retired one (the copy forwards the original; resolved first).
///
/// # Safety
/// `v` is a live value; the program thread.
pub unsafe fn refresh(v: Value) -> Value {
    let v = crate::heap::object::resolve(v);
    let cur = current_cell().ptr_load();
    // SAFETY: caller contract.
    match unsafe { version_of(v) } {
        Some(r) if r != cur => {
            // SAFETY: `v` and the current version are live; the domain copy
            // leaves the current version's objects in place.
            unsafe { crate::graph::transmigrate::transmigrate_into_state(v, cur) }
        }
        _ => v,
    }
}

/// The current version, if it exists.
pub fn current_version() -> *mut Region {
    current_cell().ptr_load()
}

/// The target of forwarding object `f`.
///
/// # Safety
/// `f` is a live forwarding object.
unsafe fn forward_target(f: Value) -> Value {
    // SAFETY: caller contract (value.rs: word 1 of a forwarded object).
    unsafe { *((f as *const u8).add(FORWARD_TARGET as usize) as *const Value) }
}

/// # Safety
/// As `forward_target`; `t` is the object `f` stands for.
unsafe fn set_forward_target(f: Value, t: Value) {
    // SAFETY: caller contract.
    unsafe { *((f as *mut u8).add(FORWARD_TARGET as usize) as *mut Value) = t }
}

/// The state version `v` points into, if any (`None` for immediates and
/// objects of other regions).
///
/// # Safety
/// `v` is a live value.
#[inline]
pub unsafe fn version_of(v: Value) -> Option<*mut Region> {
    if !is_ptr(v) {
        return None;
    }
    // SAFETY: caller contract.
    let r = unsafe { region_of(v) };
    // SAFETY: `r` owns a live object.
    unsafe { region_is_state_version(r) }.then_some(r)
}

/// Make `holder` hold the state version `v` points into, if any.
///
/// # Safety
/// `v` is a live value; `holder` a live region of the calling thread.
pub unsafe fn hold_value(holder: *mut Region, v: Value) {
    // SAFETY: caller contract; the value's version is alive while `v` is.
    unsafe {
        if let Some(r) = version_of(v) {
            hold(holder, r);
        }
    }
}
