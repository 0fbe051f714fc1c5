//! Transmigration: copy the part of a value graph that lives in a dying (or
//! younger) region into a destination region, so the value can outlive its
//! source (docs/CTRR_TRANSMIGRATION.md).
//!
//! Rules: sharing and cycles are preserved (each source object is copied at
//! most once); nothing is copied shallowly (every kind goes through its
//! metadata `clone` + `trace`); pointers that lead outside the source domain
//! are kept as they are (external-root rule). Mechanics: an explicit work
//! stack (no recursion, so a 10-million-element list cannot overflow the
//! stack), one forwarding table that is both the visited set and the
//! old→new remap, every edge rewritten by `rewrite_edge` (the single choke
//! point), a pair fast path that neither calls the metadata nor loses the
//! header flags, and per-thread reuse of the table and stack so the hot path
//! performs no heap allocation per edge.

use crate::base::fatal::fatal;
use crate::base::stats::{self, Counter};
use crate::base::value::{
    is_ptr, make_header, ObjKind, Value, HEADER_FLAGS_SHIFT, KIND_MASK, PAIR_SIZE,
};
use crate::heap::kinds::metadata;
use crate::heap::object::{forward_to, is_forwarded, resolve};
use crate::region::{
    alloc_object, global_region, hold, is_older_or_same, region_bytes, region_is_alive,
    region_is_state_version, region_of, Region,
};
use std::cell::RefCell;

// ------------------------------------------------------------ forwarding table

/// Open-addressing map from source object address to its copy. Keys carry a
/// 16-bit stamp in their top bits (addresses fit in 48 bits), so clearing the
/// table between transmigrations is one increment, not a pass over memory.
pub struct ForwardTable {
    keys: Vec<u64>,
    vals: Vec<u64>,
    mask: usize,
    len: usize,
    stamp: u64,
}

const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;
const MAX_STAMP: u64 = 0xFFFF;
const INITIAL_SLOTS: usize = 1024;
/// The most slots a table keeps between uses (4 MiB of keys and copies).
const KEPT_SLOTS: usize = 1 << 18;

impl ForwardTable {
    pub fn new() -> Self {
        ForwardTable {
            keys: vec![0; INITIAL_SLOTS],
            vals: vec![0; INITIAL_SLOTS],
            mask: INITIAL_SLOTS - 1,
            len: 0,
            stamp: 0,
        }
    }

    /// Forget every entry (O(1) except once every 65535 uses).
    pub fn reset(&mut self) {
        self.len = 0;
        self.stamp += 1;
        if self.stamp > MAX_STAMP {
            self.keys.iter_mut().for_each(|k| *k = 0);
            self.stamp = 1;
        }
    }

    #[inline(always)]
    fn slot_of(&self, addr: u64) -> usize {
        ((addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20) as usize & self.mask
    }

    #[inline(always)]
    fn tagged(&self, addr: u64) -> u64 {
        debug_assert!(addr & !ADDR_MASK == 0, "object address above 48 bits");
        addr | (self.stamp << ADDR_BITS)
    }

    /// The copy of `addr`, if it has one.
    #[inline(always)]
    pub fn get(&self, addr: u64) -> Option<u64> {
        let key = self.tagged(addr);
        let mut i = self.slot_of(addr);
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.vals[i]);
            }
            if k >> ADDR_BITS != self.stamp {
                return None; // empty (stale stamp) slot ends the probe chain
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Record `addr → copy`; `addr` must not be present.
    #[inline(always)]
    pub fn insert(&mut self, addr: u64, copy: u64) {
        if (self.len + 1) * 2 > self.keys.len() {
            self.grow();
        }
        let key = self.tagged(addr);
        let mut i = self.slot_of(addr);
        while self.keys[i] >> ADDR_BITS == self.stamp {
            i = (i + 1) & self.mask;
        }
        self.keys[i] = key;
        self.vals[i] = copy;
        self.len += 1;
    }

    #[cold]
    fn grow(&mut self) {
        let old_keys = std::mem::take(&mut self.keys);
        let old_vals = std::mem::take(&mut self.vals);
        let n = old_keys.len() * 2;
        self.keys = vec![0; n];
        self.vals = vec![0; n];
        self.mask = n - 1;
        self.len = 0;
        for (k, v) in old_keys.into_iter().zip(old_vals) {
            if k >> ADDR_BITS == self.stamp {
                self.insert(k & ADDR_MASK, v);
            }
        }
    }

    /// After a use that grew the table past [`KEPT_SLOTS`], give its memory
    /// back (the next use starts small again): a merge's scan of a 50 MB
    /// graph grows it to millions of slots, 16 bytes each, which would
    /// otherwise stay resident for the rest of the run (json: the scan of
    /// the parsed document merged into the state, 40 MB of peak RSS). The
    /// migrator's own table is kept: a loop renewing a large carry region
    /// again and again (rbtree) would grow it anew each time.
    pub fn shrink_if_large(&mut self) {
        if self.keys.len() > KEPT_SLOTS {
            *self = ForwardTable::new();
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for ForwardTable {
    fn default() -> Self {
        Self::new()
    }
}

// ------------------------------------------------------------ domains

/// Which objects a transmigration copies.
trait Domain {
    fn contains(&self, r: *mut Region) -> bool;
    /// Whether each copied original becomes a forwarding object (a store
    /// repair: the program goes on holding the originals, and must see one
    /// object). A cross-thread handoff does not forward: the sender keeps its
    /// own object and the receiver owns an equal copy (LANGUAGE.md §6).
    const FORWARDS: bool = false;
    /// Whether the forwarding table is the visited set. A domain that
    /// forwards every original it copies and is never looked at again
    /// (renewal: the source region is released right after) needs no
    /// table: a second visit finds the forwarding header, resolves it to the
    /// copy, and the copy is outside the domain.
    const USES_TABLE: bool = true;
}

/// Objects of exactly one region.
struct InRegion(*mut Region);

impl Domain for InRegion {
    #[inline(always)]
    fn contains(&self, r: *mut Region) -> bool {
        r == self.0
    }
}

/// Objects of one or two regions that are released right after the copy (a
/// loop's carry regions being renewed): originals are overwritten with
/// forwarding headers, which also serve as the visited set.
struct Renewed(*mut Region, *mut Region);

impl Domain for Renewed {
    const FORWARDS: bool = true;
    const USES_TABLE: bool = false;

    #[inline(always)]
    fn contains(&self, r: *mut Region) -> bool {
        r == self.0 || r == self.1
    }
}

/// Objects of every region younger than the destination (the store
/// barrier's case: whatever would dangle or form a cycle when stored into
/// an object of the destination).
struct YoungerThan(*mut Region);

impl Domain for YoungerThan {
    const FORWARDS: bool = true;

    #[inline(always)]
    fn contains(&self, r: *mut Region) -> bool {
        // SAFETY: both regions are live: `r` holds a reachable object and the
        // destination is live by the caller's contract.
        !unsafe { is_older_or_same(r, self.0) }
    }
}

/// Every object in a version of the global-state region other than the
/// destination (graph/state.rs: the renewal). Originals are forwarded, and
/// their headers are the visited set: a second visit resolves to the copy,
/// which is in the destination.
struct StateVersions(*mut Region);

impl Domain for StateVersions {
    const FORWARDS: bool = true;
    const USES_TABLE: bool = false;

    #[inline(always)]
    fn contains(&self, r: *mut Region) -> bool {
        // SAFETY: `r` holds a reachable live object, so its block is readable.
        r != self.0 && unsafe { crate::region::region_is_state_version(r) }
    }
}

/// Every object outside the destination and the immortal regions (a
/// cross-thread handoff: afterwards the destination is self-contained).
struct AllButImmortal(*mut Region);

impl Domain for AllButImmortal {
    #[inline(always)]
    fn contains(&self, r: *mut Region) -> bool {
        // SAFETY: `r` holds a reachable live object, so its block is readable.
        r != self.0 && !unsafe { crate::region::region_is_immortal(r) }
    }
}

// ------------------------------------------------------------ the engine

/// Per-thread reusable state.
struct Migrator {
    forward: ForwardTable,
    /// Copies whose fields still hold source values.
    work: Vec<Value>,
    objects: u64,
    /// Originals in versions of the global state forwarded by this run
    /// (handed to `state::note_forwarded` at the end).
    state_forwarded: Vec<Value>,
}

impl Migrator {
    fn new() -> Self {
        Migrator {
            forward: ForwardTable::new(),
            work: Vec::with_capacity(256),
            objects: 0,
            state_forwarded: Vec::new(),
        }
    }
}

thread_local! {
    static MIGRATOR: RefCell<Migrator> = RefCell::new(Migrator::new());
}

/// What one transmigration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmigrateOutcome {
    /// The root, rewritten to its copy when it was in the domain.
    pub value: Value,
    pub objects: u64,
    pub bytes: u64,
}

/// Copy an object into `dst`: the pair fast path, or the kind's metadata.
///
/// # Safety
/// `v` is a live object, `dst` a live region of this thread.
#[inline(always)]
unsafe fn copy_object(v: Value, dst: *mut Region) -> Value {
    // SAFETY: caller contract; a pair has a header and two value words.
    unsafe {
        let header = *(v as *const u64);
        let kind = (header & KIND_MASK) as u8;
        if kind == ObjKind::Pair as u8 {
            let p = alloc_object(dst, ObjKind::Pair, PAIR_SIZE);
            let flags = ((header >> HEADER_FLAGS_SHIFT) & 0xFF) as u8;
            if flags != 0 {
                let chunk = (*p >> crate::base::value::HEADER_CHUNK_SHIFT) as usize;
                *p = make_header(ObjKind::Pair, flags, chunk);
            }
            let src = v as *const u64;
            *p.add(1) = *src.add(1);
            *p.add(2) = *src.add(2);
            p as Value
        } else {
            (metadata(kind).clone)(v, dst)
        }
    }
}

/// The single edge choke point: rewrite the value in `slot` to its copy if it
/// points into the domain, copying (and scheduling) the target on first visit.
///
/// # Safety
/// `slot` is a writable value slot of a copy in `dst` (or the root cell).
#[inline(always)]
unsafe fn rewrite_edge<D: Domain>(
    m: &mut Migrator,
    domain: &D,
    dst: *mut Region,
    slot: *mut Value,
) {
    // SAFETY: caller contract; `v` is a live object when it is a pointer.
    unsafe {
        let mut v = *slot;
        if is_forwarded(v) {
            // An earlier store repair moved it: the edge goes to the copy.
            v = resolve(v);
            *slot = v;
        }
        if !is_ptr(v) {
            return;
        }
        let r = region_of(v);
        if !domain.contains(r) {
            // An external root, kept as is. A pointer into a version of the
            // global state makes the destination hold that version.
            if region_is_state_version(r) && !region_is_state_version(dst) {
                hold(dst, r);
            }
            return;
        }
        if D::USES_TABLE {
            if let Some(copy) = m.forward.get(v) {
                *slot = copy;
                return;
            }
        }
        let copy = copy_object(v, dst);
        if D::USES_TABLE {
            m.forward.insert(v, copy);
        }
        if D::FORWARDS && copy != v {
            // `copy_object` has read every field of `v`: from now on every
            // path to `v` resolves to `copy`. The original's region keeps
            // a forwarding pointer into the destination: when that is a
            // state version, which can be retired, the region holds it —
            // or, for a version itself, the renewal keeps the forwarding
            // pointer aimed at the current version (graph/state.rs).
            forward_to(v, copy);
            if region_is_state_version(r) {
                m.state_forwarded.push(v);
            } else if region_is_state_version(dst) {
                hold(r, dst);
            }
        }
        m.objects += 1;
        *slot = copy;
        if copy != v {
            m.work.push(copy);
        }
    }
}

/// Drain the work stack: rewrite every field of every copy.
///
/// # Safety
/// As `rewrite_edge`.
unsafe fn drain<D: Domain>(m: &mut Migrator, domain: &D, dst: *mut Region) {
    while let Some(copy) = m.work.pop() {
        // SAFETY: `copy` is a fresh object in dst; its slots hold source values.
        unsafe {
            let kind = (*(copy as *const u64) & KIND_MASK) as u8;
            if kind == ObjKind::Pair as u8 {
                let p = copy as *mut Value;
                rewrite_edge(m, domain, dst, p.add(1));
                rewrite_edge(m, domain, dst, p.add(2));
            } else {
                let trace = metadata(kind).trace;
                trace(copy, &mut |slot| rewrite_edge(m, domain, dst, slot));
            }
        }
    }
}

/// Copy what `roots` reach in the domain into `dst`, rewriting each root;
/// returns (objects, bytes) copied. Counts nothing: callers count.
///
/// # Safety
/// `dst` is a live region of this thread; every object reachable from the
/// roots through the domain is live.
unsafe fn run_roots<D: Domain>(roots: &mut [Value], domain: D, dst: *mut Region) -> (u64, u64) {
    // SAFETY: caller contract.
    unsafe {
        if !region_is_alive(dst) {
            fatal(format_args!("transmigration into a reclaimed region"));
        }
        let before = region_bytes(dst);
        let mut go = |m: &mut Migrator| {
            m.forward.reset();
            m.work.clear();
            m.objects = 0;
            m.state_forwarded.clear();
            for root in roots.iter_mut() {
                rewrite_edge(m, &domain, dst, root);
                drain(m, &domain, dst);
            }
            if !m.state_forwarded.is_empty() {
                crate::graph::state::note_forwarded(&m.state_forwarded);
            }
            m.objects
        };
        // A clone function that transmigrates (none does today) would find
        // the thread's migrator busy: give it a private one.
        let objects = MIGRATOR
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut m) => go(&mut m),
                Err(_) => go(&mut Migrator::new()),
            })
            .unwrap_or_else(|_| go(&mut Migrator::new()));
        let bytes = region_bytes(dst).saturating_sub(before) as u64;
        (objects, bytes)
    }
}

/// One root through `run_roots`, counted as a transmigration.
///
/// # Safety
/// As `run_roots`.
unsafe fn run<D: Domain>(root: Value, domain: D, dst: *mut Region) -> TransmigrateOutcome {
    let mut roots = [root];
    // SAFETY: forwarded contract.
    let (objects, bytes) = unsafe { run_roots(&mut roots, domain, dst) };
    stats::count(Counter::Transmigrations, 1);
    stats::count(Counter::TransmigratedObjects, objects);
    stats::count(Counter::TransmigratedBytes, bytes);
    TransmigrateOutcome {
        value: roots[0],
        objects,
        bytes,
    }
}

/// Renew `src`: copy what `roots` reach in it into `dst`, rewriting each
/// root, and overwrite every copied original with a forwarding header; the
/// caller releases `src` right after, so nothing may reach an original by
/// then except through the roots. Returns (objects, bytes) copied; counts
/// nothing (the caller counts a renewal).
///
/// # Safety
/// `src` and `dst` are live regions of the calling thread, every object
/// reachable from the roots is live, and nothing outside `src` points into
/// `src` except the roots.
pub unsafe fn renew_roots(roots: &mut [Value], src: *mut Region, dst: *mut Region) -> (u64, u64) {
    // SAFETY: forwarded contract.
    unsafe { run_roots(roots, Renewed(src, src), dst) }
}

/// `renew_roots` of two regions at once (a loop's young and old carry
/// regions, when the young one's objects may point into the old one).
///
/// # Safety
/// As `renew_roots`, for `a` and `b` together.
pub unsafe fn renew_roots_of_two(
    roots: &mut [Value],
    a: *mut Region,
    b: *mut Region,
    dst: *mut Region,
) -> (u64, u64) {
    // SAFETY: forwarded contract.
    unsafe { run_roots(roots, Renewed(a, b), dst) }
}

/// Renew the global state: copy what `roots` reach in every version of the
/// global-state region other than `dst` into `dst`, rewriting each root and
/// forwarding every copied original (graph/state.rs). Returns (objects,
/// bytes) copied; counts nothing (the caller counts a renewal).
///
/// # Safety
/// `dst` is a fresh state version of the calling thread; every object
/// reachable from the roots is live.
pub unsafe fn renew_state_roots(roots: &mut [Value], dst: *mut Region) -> (u64, u64) {
    // SAFETY: forwarded contract.
    unsafe { run_roots(roots, StateVersions(dst), dst) }
}

/// Copy what `root` reaches in retired versions of the global state into
/// the current version `dst`, forwarding the originals (a store of a value
/// of a retired version into the current one: the current version never
/// points into a retired one through a store).
///
/// # Safety
/// As `transmigrate`; `dst` is the current state version, of this thread.
pub unsafe fn transmigrate_into_state(root: Value, dst: *mut Region) -> Value {
    let mut roots = [root];
    // SAFETY: forwarded contract.
    unsafe { run_roots(&mut roots, StateVersions(dst), dst) };
    roots[0]
}

/// Copy the graph reachable from `root` that lives in `src` into `dst`;
/// returns the new root. Objects outside `src` are shared, not copied.
///
/// # Safety
/// `src` and `dst` are live regions of the calling thread and every object
/// reachable from `root` is live.
pub unsafe fn transmigrate(root: Value, src: *mut Region, dst: *mut Region) -> Value {
    // SAFETY: forwarded contract.
    unsafe { transmigrate_counted(root, src, dst).value }
}

/// `transmigrate`, also reporting how many objects and bytes were copied.
///
/// # Safety
/// As `transmigrate`.
pub unsafe fn transmigrate_counted(
    root: Value,
    src: *mut Region,
    dst: *mut Region,
) -> TransmigrateOutcome {
    if src == dst || src == global_region() || !is_ptr(root) {
        return TransmigrateOutcome {
            value: root,
            objects: 0,
            bytes: 0,
        };
    }
    // SAFETY: forwarded contract.
    unsafe { run(root, InRegion(src), dst) }
}

/// Copy every object reachable from `root` that lives in a region younger
/// than `dst` into `dst` (the store barrier's repair: after it, storing the
/// result into an object of `dst` creates no young→old edge).
///
/// # Safety
/// As `transmigrate`.
pub unsafe fn transmigrate_younger_than(root: Value, dst: *mut Region) -> TransmigrateOutcome {
    if !is_ptr(root) {
        return TransmigrateOutcome {
            value: root,
            objects: 0,
            bytes: 0,
        };
    }
    // SAFETY: forwarded contract.
    unsafe { run(root, YoungerThan(dst), dst) }
}

/// Copy every object reachable from `root` that is neither in `dst` nor in
/// an immortal region into `dst` (a cross-thread handoff: afterwards `dst`
/// plus the immortal regions hold the whole value, and `dst` can be handed
/// to another thread; docs/REGION_THREADING_MODEL.md).
///
/// # Safety
/// As `transmigrate`; every mortal region reachable from `root` is owned by
/// the calling thread.
pub unsafe fn transmigrate_for_handoff(root: Value, dst: *mut Region) -> TransmigrateOutcome {
    if !is_ptr(root) {
        return TransmigrateOutcome {
            value: root,
            objects: 0,
            bytes: 0,
        };
    }
    // SAFETY: forwarded contract.
    unsafe { run(root, AllButImmortal(dst), dst) }
}

/// C ABI for `transmigrate`.
///
/// # Safety
/// As `transmigrate`.
#[no_mangle]
pub unsafe extern "C" fn omni_transmigrate(
    root: Value,
    src: *mut Region,
    dst: *mut Region,
) -> Value {
    // SAFETY: forwarded contract.
    unsafe { transmigrate(root, src, dst) }
}

/// C ABI for `transmigrate_younger_than`.
///
/// # Safety
/// As `transmigrate`.
#[no_mangle]
pub unsafe extern "C" fn omni_transmigrate_younger_than(root: Value, dst: *mut Region) -> Value {
    // SAFETY: forwarded contract.
    unsafe { transmigrate_younger_than(root, dst).value }
}

#[cfg(test)]
mod tests {
    use super::ForwardTable;

    #[test]
    fn forward_table_maps_grows_and_resets() {
        let mut t = ForwardTable::new();
        t.reset();
        for i in 1..5000u64 {
            t.insert(i * 8, i * 16);
        }
        assert_eq!(t.len(), 4999);
        for i in 1..5000u64 {
            assert_eq!(t.get(i * 8), Some(i * 16));
        }
        assert_eq!(t.get(5000 * 8), None);
        t.reset();
        assert!(t.is_empty());
        assert_eq!(t.get(8), None, "reset forgets old entries");
        t.insert(8, 1);
        assert_eq!(t.get(8), Some(1));
    }

    #[test]
    fn forward_table_survives_stamp_wraparound() {
        let mut t = ForwardTable::new();
        for round in 0..70_000u64 {
            t.reset();
            t.insert(64, round);
            assert_eq!(t.get(64), Some(round));
            assert_eq!(t.get(72), None);
        }
    }
}
