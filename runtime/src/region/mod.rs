//! Regions: the unit of memory management of the Region-RC runtime.
//!
//! A region is a small control block (`Region`) plus a list of chunks that
//! it bump-allocates objects in. A new region has no chunk at all: its first
//! allocation takes a 128-byte chunk from the thread's size-class pool
//! (`pool.rs`), and later chunks double (256 B, 512 B, … up to 1 MiB), so a
//! region that never allocates touches no memory besides its control block
//! and a small one holds little more than it uses. Every object header names
//! its chunk's descriptor and the descriptor names the owning region, so
//! `region_of` is two loads for every object.
//!
//! Liveness (docs/REGION_RC_MODEL.md): a region is reclaimed exactly when its
//! scope has exited, its external reference count is zero and no tether pins
//! it. The three quantities live in one atomic word, so "the last of them went
//! away" is a single decrement reaching zero and the reclaim happens exactly
//! once, on whichever thread made that decrement. Misuse (exit twice, release
//! more than retained, destroy while pinned) aborts with a message naming the
//! region.
//!
//! Age order: `(depth, sequence)` lexicographically, the global region
//! (depth 0, sequence 0) oldest. `is_older_or_same` is the partial order the
//! store barrier uses to keep pointers flowing from younger to older regions
//! only, which is what rules out region cycles.

mod chunk;
pub use chunk::MAX_ALLOC_BYTES;
mod hold;
pub use hold::{
    for_each_hold, hold, region_is_pin, region_is_state_version, region_make_pin,
    region_make_state_version, region_sole_reference, HOLD_HELD,
};
mod merge;
pub mod owner;
mod pool;
pub mod tether;

pub use chunk::{
    ChunkHeader, ChunkKind, CHUNK_HEADER_BYTES, DEDICATED_THRESHOLD, POISON_BYTE, POISON_WORD,
};
pub use merge::{merge_permitted, omni_region_merge, region_absorb, region_merge, MergeRefusal};
pub use pool::open_regions;

use crate::base::atomics::{ConfigWord, EpochCell, PublishedPtr, RcWord};
use crate::base::fatal::describe_site;
use crate::base::fatal::fatal;
use crate::base::stats::{self, Counter};
use crate::base::value::{header_chunk, is_ptr, make_header, ObjKind, Value};
use crate::region::tether::TetherDebug;
use chunk::{
    chunk_data, class_for, class_size, poison, system_free_chunk, CHUNK_MAX_SHIFT, CHUNK_MIN_SHIFT,
};
use std::fmt;
use std::ptr::{addr_of_mut, null_mut};

/// A region's identity: its creation sequence number (unique for the
/// process; the global region is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub u64);

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The source location that created a region: an index into the program's
/// location table (`omni_rt_set_locs`); 0 means unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AllocSite(pub u32);

impl AllocSite {
    pub const UNKNOWN: AllocSite = AllocSite(0);
}

/// Byte offsets of the allocation hot path in the control block, for the
/// code generator's inline bump allocation (`[bump][limit][current_chunk]`):
/// an object fits when `limit - bump >= size`; it then starts at `bump`,
/// `bump` advances, and its header names `current_chunk`.
pub const REGION_BUMP: i32 = std::mem::offset_of!(Region, bump) as i32;
pub const REGION_LIMIT: i32 = std::mem::offset_of!(Region, limit) as i32;
pub const REGION_CURRENT_CHUNK: i32 = std::mem::offset_of!(Region, current_chunk) as i32;
/// Byte offsets of what `region_bytes` adds up (`retired_bytes + bump -
/// current_start`), for the code generator's inline check of a loop's carry
/// region against its renewal limit.
pub const REGION_RETIRED_BYTES: i32 = std::mem::offset_of!(Region, retired_bytes) as i32;
/// The flag byte of a version of the global-state region (generated code
/// tests it before refreshing a value, ctrr/state.rs).
pub const REGION_STATE_VERSION: i32 = std::mem::offset_of!(Region, state_version) as i32;
/// The head of a region's finalizer list, whose newest entry is its
/// newest hold (generated code tests it before holding a state version
/// again: hold.rs, `hold`).
pub const REGION_FINALIZERS: i32 = std::mem::offset_of!(Region, finalizers) as i32;
/// The owning region's word in a chunk descriptor.
pub const CHUNK_REGION: i32 = std::mem::offset_of!(chunk::ChunkHeader, region) as i32;
pub const REGION_CURRENT_START: i32 = std::mem::offset_of!(Region, current_start) as i32;

/// Size of a region's first chunk (descriptor included): the smallest
/// pooled size class.
pub const FIRST_CHUNK_BYTES: usize = 1 << CHUNK_MIN_SHIFT;

/// The largest size class a control block keeps as its spare chunk (1 KiB):
/// a reclaimed region gives its largest chunk up to this size to its block,
/// so the next region made from the block starts with a chunk as big as the
/// last one needed. A short-lived region that outgrows 128 bytes (interp's
/// frames and argument arrays) then stays in one chunk instead of taking a
/// second from the pool on every use.
const SPARE_MAX_CLASS: u32 = 3;

// `region_create_in_use` sets `next_class` to 1 after the first chunk
// (what `alloc_slow` computes as `1.min(max_class)` with the initial cap).
const _: () = assert!(CHUNK_MAX_SHIFT > CHUNK_MIN_SHIFT);

/// Bytes of one control block (counted as held while its region is alive
/// or the block is pooled).
pub const CONTROL_BLOCK_BYTES: usize = std::mem::size_of::<Region>();

// The liveness word: bit 0 = scope alive, bits 1..21 = tether count,
// bits 21..64 = external reference count.
const SCOPE_BIT: u64 = 1;
const TETHER_SHIFT: u32 = 1;
const TETHER_BITS: u32 = 20;
const TETHER_UNIT: u64 = 1 << TETHER_SHIFT;
const TETHER_MASK: u64 = ((1 << TETHER_BITS) - 1) << TETHER_SHIFT;
const EXTERNAL_SHIFT: u32 = TETHER_SHIFT + TETHER_BITS;
const EXTERNAL_UNIT: u64 = 1 << EXTERNAL_SHIFT;

/// A region control block.
#[repr(C)]
pub struct Region {
    // --- allocation hot path (first cache line)
    bump: *mut u8,
    limit: *mut u8,
    current_chunk: *mut ChunkHeader,
    current_start: *mut u8,
    /// scope bit | tethers | external references (see the constants above).
    liveness: RcWord,
    // --- identity and age
    id: u64,
    depth: u32,
    site: u32,
    /// Serial of the owning thread; 0 for the global region.
    owner: u64,
    /// Bumped on every reclaim of this control block (never reset when the
    /// block is reused), so a borrowed reference can tell it is stale.
    epoch: EpochCell,
    // --- chunk ownership
    /// Every chunk this region owns (merged-in chunks included).
    chunks: *mut ChunkHeader,
    /// Head of the list of *finalizable objects* in this region's chunks
    /// (channel and thread handles), linked through word
    /// [`FINAL_LINK_WORD`] of each; the finalize hook runs on each when the
    /// region is reclaimed, and a merge splices the list into the old
    /// region's.
    finalizers: *mut u64,
    /// The older region this one was merged into, on which it holds an
    /// external reference until it is reclaimed.
    merged_into: *mut Region,
    /// While pooled: the next block of the thread's free-block list
    /// (pool.rs). While live as a loop's young carry region: the loop's old
    /// generation, null before the first renewal (`CarryBook`). One word
    /// for both keeps the control block within 160 bytes.
    link: *mut Region,
    /// A free first-size chunk kept with the block across reuse (counted as
    /// pooled memory), so a short-lived region that allocates a little
    /// takes and gives back its first chunk without visiting the pool.
    spare_chunk: *mut ChunkHeader,
    /// The next older open scope region of the owning thread (pool.rs).
    open_below: *mut Region,
    // --- accounting
    /// Bytes in chunks other than the current one (and merged-in bytes).
    retired_bytes: usize,
    /// Total size of the chunks owned (descriptors and unused tails
    /// included): what the region holds, for the process statistics.
    held_bytes: usize,
    chunk_count: u32,
    /// Size class of the next chunk (geometric growth).
    next_class: u8,
    /// The largest class the growth goes to (`region_cap_chunks`).
    max_class: u8,
    is_global: bool,
    /// A version of the global-state region, current or retired
    /// (graph/state.rs); set once, right after creation.
    state_version: bool,
    /// An activation's pin region (rt/state_abi.rs): it only holds state
    /// versions, and is never merged into another region.
    pin: bool,
    // --- a loop's carry regions (`CarryBook`; with `link`)
    /// Young generation: the next young one is absorbed, not copied.
    carry_absorb: bool,
    /// Young generation: the old generation's renewal factor.
    carry_growth: u8,
    /// Young generation: its mark, in KiB; old generation: its renewal
    /// limit, in KiB.
    carry_kib: u32,
    pub(crate) tether_debug: TetherDebug,
}

/// Per-region accounting, for tests and diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionAccounting {
    pub id: RegionId,
    pub depth: u32,
    pub bytes: usize,
    pub chunks: u32,
    /// Total size of the chunks owned, descriptors and unused tails included.
    pub held_bytes: usize,
    pub external_rc: u64,
    pub tethers: u64,
    pub scope_alive: bool,
    pub epoch: u64,
}

// ------------------------------------------------------------ configuration

struct RegionConfig {
    /// Quota in bytes; 0 = none; `QUOTA_UNREAD` until the env var is read.
    quota: ConfigWord,
}
const QUOTA_UNREAD: u64 = u64::MAX;

crate::base::atomics::runtime_static!(CONFIG: RegionConfig = RegionConfig { quota: ConfigWord::new(QUOTA_UNREAD) }; fn config);

fn quota_bytes() -> u64 {
    let q = config().quota.config_load();
    if q != QUOTA_UNREAD {
        return q;
    }
    let q = std::env::var("OMNI_REGION_QUOTA_BYTES")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    config().quota.config_store(q);
    q
}

/// Override the debug quota (`None` = no quota); otherwise it comes from
/// `OMNI_REGION_QUOTA_BYTES`.
pub fn set_region_quota(bytes: Option<u64>) {
    config().quota.config_store(bytes.unwrap_or(0));
}

// ------------------------------------------------------------ creation

/// Write every field of a control block for a new region.
///
/// # Safety
/// `start.block` is an unused control block (fresh memory when `start.fresh`).
unsafe fn init_block(start: &pool::RegionStart, site: AllocSite, is_global: bool) -> *mut Region {
    let r = start.block;
    // SAFETY: the block is unused and large enough for `Region`; every field
    // is written before the pointer is handed out. A reused block keeps its
    // epoch (monotonic across reuse).
    unsafe {
        if start.fresh {
            addr_of_mut!((*r).epoch).write(EpochCell::new(0));
            addr_of_mut!((*r).liveness).write(RcWord::new(SCOPE_BIT));
            addr_of_mut!((*r).spare_chunk).write(null_mut());
        } else {
            (*r).liveness.init_unshared(SCOPE_BIT);
        }
        // No chunk yet: `limit - bump == 0`, so the first allocation takes
        // the slow path, which fetches the first chunk.
        addr_of_mut!((*r).bump).write(null_mut());
        addr_of_mut!((*r).limit).write(null_mut());
        addr_of_mut!((*r).current_chunk).write(null_mut());
        addr_of_mut!((*r).current_start).write(null_mut());
        addr_of_mut!((*r).id).write(start.seq);
        addr_of_mut!((*r).depth).write(start.depth);
        addr_of_mut!((*r).site).write(site.0);
        addr_of_mut!((*r).owner).write(start.owner);
        addr_of_mut!((*r).chunks).write(null_mut());
        addr_of_mut!((*r).finalizers).write(null_mut());
        addr_of_mut!((*r).merged_into).write(null_mut());
        addr_of_mut!((*r).link).write(null_mut());
        addr_of_mut!((*r).retired_bytes).write(0);
        addr_of_mut!((*r).held_bytes).write(0);
        addr_of_mut!((*r).chunk_count).write(0);
        addr_of_mut!((*r).next_class).write(0);
        addr_of_mut!((*r).max_class).write((CHUNK_MAX_SHIFT - CHUNK_MIN_SHIFT) as u8);
        addr_of_mut!((*r).is_global).write(is_global);
        addr_of_mut!((*r).state_version).write(false);
        addr_of_mut!((*r).pin).write(false);
        addr_of_mut!((*r).carry_absorb).write(false);
        addr_of_mut!((*r).carry_growth).write(0);
        addr_of_mut!((*r).carry_kib).write(0);
        addr_of_mut!((*r).tether_debug).write(TetherDebug::new());
    }
    stats::region_created();
    r
}

fn create(parent_depth: Option<u32>, site: AllocSite) -> *mut Region {
    let start = pool::begin_region(parent_depth);
    // SAFETY: `begin_region` hands out an unused block.
    unsafe { init_block(&start, site, false) }
}

/// Create a region for a new scope of the calling thread (depth = the
/// thread's open scopes + 1).
pub fn region_create() -> *mut Region {
    create(None, AllocSite::UNKNOWN)
}

/// `region_create`, remembering the source location that created it (named
/// by quota diagnostics).
pub fn region_create_at(site: AllocSite) -> *mut Region {
    create(None, site)
}

/// `region_create_at` for a region that is about to be allocated in:
/// generated code creates a scope region at its first use (docs/CTRR.md),
/// which is nearly always an allocation in it or a call that allocates in
/// it. When the pooled control block kept its spare first chunk, that
/// chunk is installed now, so the first allocation is an inline bump
/// instead of a call of the slow path (the chunk counts as taken, as the
/// slow path would count it; a region that then allocates nothing gives it
/// back as its spare when it is reclaimed).
pub fn region_create_in_use(site: AllocSite) -> *mut Region {
    let r = create(None, site);
    // SAFETY: `r` is a new region of this thread, without a chunk.
    let reg = unsafe { &mut *r };
    let spare = reg.spare_chunk;
    if !spare.is_null() && !cfg!(debug_assertions) && quota_bytes() == 0 {
        reg.spare_chunk = null_mut();
        // SAFETY: an unused pooled chunk of this thread (`release_chunk`).
        // The counts are stored, not added to (they are known: no chunk
        // yet): `init_block` just wrote them with wider stores, and reading
        // them back stalled store forwarding (70% of this function's time).
        unsafe {
            let (bytes, class) = ((*spare).size, (*spare).class);
            install_chunk(reg, r, spare, 0, bytes);
            reg.chunk_count = 1;
            reg.held_bytes = bytes;
            reg.next_class = (class + 1) as u8;
            stats::chunk_taken(bytes, true);
        }
    }
    r
}

/// Create a region nested in `parent` (depth = parent's depth + 1).
///
/// # Safety
/// `parent` is a live region.
pub unsafe fn region_create_child(parent: *mut Region, site: AllocSite) -> *mut Region {
    // SAFETY: caller contract.
    let d = unsafe { (*parent).depth };
    create(Some(d), site)
}

crate::base::atomics::runtime_static!(GLOBAL: PublishedPtr<Region> = PublishedPtr::new(); fn global_cell);

/// The program-lifetime region (constants, globals' values, interned
/// symbols): the oldest region, never reclaimed.
pub fn global_region() -> *mut Region {
    let g = global_cell().ptr_load();
    if !g.is_null() {
        return g;
    }
    stats::set_pending_bytes_source(global_region_pending_bytes);
    init_immortal(global_cell())
}

/// Create an immortal region (global or shared) and publish it in `cell`;
/// when two threads race, the loser's block goes back to the pool.
#[cold]
fn init_immortal(cell: &PublishedPtr<Region>) -> *mut Region {
    let start = pool::RegionStart {
        block: pool::system_block(),
        fresh: true,
        seq: 0,
        depth: 0,
        owner: 0,
    };
    // SAFETY: a fresh block.
    let r = unsafe { init_block(&start, AllocSite::UNKNOWN, true) };
    let winner = cell.ptr_publish_once(r);
    if winner != r {
        // SAFETY: `r` never escaped this function.
        unsafe { pool::give_block(r) };
        stats::region_reclaimed(0, 0, 0);
    }
    winner
}

/// Bytes allocated in the global region's current chunk, which the chunk
/// accounting has not counted yet (the stats report adds them).
pub fn global_region_pending_bytes() -> usize {
    let g = global_cell().ptr_load();
    if g.is_null() {
        return 0;
    }
    // SAFETY: the global region is never reclaimed.
    unsafe { (*g).bump as usize - (*g).current_start as usize }
}

/// The immortal *shared region*: symbols interned at run time (channel and
/// thread objects are not here: they live in ordinary regions, see
/// `heap/handles.rs`). Unlike the global region (owned by the program thread,
/// allocated in without a lock by generated code), every allocation in it
/// happens under [`with_shared_region`]'s lock, so any thread may allocate
/// there (docs/REGION_THREADING_MODEL.md). It is never reclaimed and, like
/// the global region, counts as older than every other region.
pub fn shared_region() -> *mut Region {
    let g = shared_cell().ptr_load();
    if !g.is_null() {
        return g;
    }
    init_immortal(shared_cell())
}

crate::base::atomics::runtime_static!(SHARED_REGION: PublishedPtr<Region> = PublishedPtr::new(); fn shared_cell);

/// Serialises allocation in the shared region.
static SHARED_ALLOC: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run `f` with the shared region, holding its allocation lock: `f` may
/// allocate in it from any thread. `f` must not call back into
/// `with_shared_region` (the lock is not re-entrant).
pub fn with_shared_region<T>(f: impl FnOnce(*mut Region) -> T) -> T {
    let r = shared_region();
    let _guard = SHARED_ALLOC.lock().unwrap_or_else(|e| e.into_inner());
    f(r)
}

/// Whether `r` is never reclaimed (the global or the shared region).
///
/// # Safety
/// `r` is a readable control block.
#[inline]
pub unsafe fn region_is_immortal(r: *mut Region) -> bool {
    // SAFETY: caller contract; `is_global` is immutable.
    unsafe { (*r).is_global }
}

/// Nesting depth of a region that has been prepared for a cross-thread
/// handoff: deeper than any scope, so the receiving thread may merge it into
/// any region of its own.
pub const HANDOFF_DEPTH: u32 = u32::MAX / 2;

/// Turn a *self-contained* region (its objects point only into itself and
/// into immortal regions, and nothing but the caller's one value refers to
/// it) into a handoff region: its depth becomes [`HANDOFF_DEPTH`] (which
/// cannot break the age order: it has no outgoing edges to mortal regions
/// and no incoming ones), and its scope becomes one external reference that
/// the caller hands to the receiving thread together with the value.
///
/// # Safety
/// `r` is a live region owned by the calling thread, whose scope has not
/// been exited, and is self-contained as described.
pub unsafe fn region_prepare_handoff(r: *mut Region) {
    // SAFETY: caller contract: we own `r` and nothing else reads its depth.
    unsafe {
        (*r).depth = HANDOFF_DEPTH;
        region_retain(r);
        region_exit(r);
    }
}

/// Make the calling thread the owner of a handoff region it received (the
/// channel or join that carried it synchronised the two threads, so the
/// plain write is ordered after every write of the previous owner).
///
/// # Safety
/// `r` is a live handoff region whose external reference the caller now
/// holds; no other thread uses it any more.
pub unsafe fn region_adopt(r: *mut Region) {
    // SAFETY: caller contract: the previous owner let go of `r`.
    unsafe { (*r).owner = pool::current_thread_serial() };
}

/// Serial of the thread that owns `r` (0: the global/shared region).
///
/// # Safety
/// `r` is a readable control block.
#[inline]
pub unsafe fn region_owner(r: *mut Region) -> u64 {
    // SAFETY: caller contract.
    unsafe { (*r).owner }
}

/// The calling thread's serial number (the `owner` of the regions it creates).
pub fn current_thread_serial() -> u64 {
    pool::current_thread_serial()
}

// ------------------------------------------------------------ allocation

#[inline(always)]
fn round_size(size: usize) -> usize {
    // Saturating: a huge request stays huge (and fails as out of memory in
    // `alloc_slow`) instead of wrapping to a small size.
    size.max(1).saturating_add(7) & !7
}

/// Allocate `size` bytes (rounded up to 8) for an object of `kind` and write
/// its header. The body is uninitialised: the caller writes every field.
///
/// # Safety
/// `r` must be a live region owned by the calling thread.
#[inline(always)]
pub unsafe fn alloc_object(r: *mut Region, kind: ObjKind, size: usize) -> *mut u64 {
    let size = round_size(size);
    // SAFETY: `r` is live and owned by this thread (caller contract), so
    // bump..limit is free space of its current chunk.
    unsafe {
        let reg = &mut *r;
        let p = reg.bump;
        let (p, chunk) = if (reg.limit as usize).wrapping_sub(p as usize) >= size {
            reg.bump = p.add(size);
            (p, reg.current_chunk)
        } else {
            alloc_slow(r, size)
        };
        let p = p as *mut u64;
        p.write(make_header(kind, 0, chunk as usize));
        p
    }
}

/// Allocate a raw payload buffer (no header), 8-byte aligned.
///
/// # Safety
/// `r` must be a live region owned by the calling thread.
#[inline(always)]
pub unsafe fn alloc_raw(r: *mut Region, size: usize) -> *mut u8 {
    let size = round_size(size);
    // SAFETY: as in `alloc_object`.
    unsafe {
        let reg = &mut *r;
        let p = reg.bump;
        if (reg.limit as usize).wrapping_sub(p as usize) >= size {
            reg.bump = p.add(size);
            p
        } else {
            alloc_slow(r, size).0
        }
    }
}

/// Bytes used in the current chunk.
#[inline]
fn current_used(reg: &Region) -> usize {
    reg.bump as usize - reg.current_start as usize
}

/// Account the current chunk's bytes as retired (before switching chunks or
/// handing the chunks to another region).
fn retire_current(reg: &mut Region) {
    let used = current_used(reg);
    if used != 0 {
        reg.retired_bytes += used;
        stats::bytes_accounted(used);
        reg.current_start = reg.bump;
    }
}

/// The slow path: take a new chunk (or a dedicated one for a big object).
/// Its common case — the first small allocation of a short-lived region,
/// whose control block came from the pool with a spare first chunk — is
/// kept short here; everything else is `alloc_new_chunk`.
///
/// # Safety
/// `r` is a live region owned by the calling thread; `size` is rounded.
#[inline(never)]
unsafe fn alloc_slow(r: *mut Region, size: usize) -> (*mut u8, *mut ChunkHeader) {
    // SAFETY: forwarded contract.
    if let Some(got) = unsafe { take_spare_chunk(r, size) } {
        return got;
    }
    // SAFETY: forwarded contract.
    unsafe { alloc_new_chunk(r, size) }
}

/// The common case of `alloc_slow`: a region without a chunk yet whose
/// control block kept a spare first chunk (release builds, no quota) takes
/// it as its first chunk, `size` bytes of it allocated; `None` otherwise.
/// Debug builds never reuse a spare: every chunk they hand out again went
/// through the pool, poisoned when its region was reclaimed.
///
/// # Safety
/// As `alloc_slow`.
#[inline(always)]
unsafe fn take_spare_chunk(r: *mut Region, size: usize) -> Option<(*mut u8, *mut ChunkHeader)> {
    // SAFETY: caller contract.
    let reg = unsafe { &mut *r };
    let spare = reg.spare_chunk;
    if reg.next_class == 0
        && !spare.is_null()
        && !cfg!(debug_assertions)
        && (reg.is_global || quota_bytes() == 0)
    {
        // SAFETY: a spare is an unused pooled chunk of this thread.
        let (bytes, class) = unsafe { ((*spare).size, (*spare).class) };
        if size + CHUNK_HEADER_BYTES > bytes {
            return None;
        }
        // No chunk yet (`next_class` moves on with the first one), so
        // nothing to retire.
        reg.spare_chunk = null_mut();
        // SAFETY: the spare holds the descriptor and `size` bytes.
        unsafe {
            let data = install_chunk(reg, r, spare, size, bytes);
            reg.chunk_count += 1;
            reg.held_bytes += bytes;
            reg.next_class = (class + 1).min(u32::from(reg.max_class)) as u8;
            stats::chunk_taken(bytes, true);
            return Some((data, spare));
        }
    }
    None
}

/// `alloc_slow` beyond its common case.
///
/// # Safety
/// As `alloc_slow`.
#[cold]
#[inline(never)]
unsafe fn alloc_new_chunk(r: *mut Region, size: usize) -> (*mut u8, *mut ChunkHeader) {
    // SAFETY: caller contract.
    let reg = unsafe { &mut *r };
    if cfg!(debug_assertions) && reg.liveness.load_snapshot() == 0 {
        fatal(format_args!(
            "allocation in reclaimed region {}",
            RegionId(reg.id)
        ));
    }
    if size > chunk::MAX_ALLOC_BYTES {
        chunk::out_of_memory(size);
    }
    // Read once: the quota is checked here and may end the new chunk early.
    let quota = if reg.is_global { 0 } else { quota_bytes() };
    if quota != 0 {
        check_quota(reg, size, quota);
    }
    if size > DEDICATED_THRESHOLD {
        let c = chunk::system_alloc_chunk(size + CHUNK_HEADER_BYTES, ChunkKind::Dedicated, 0);
        // SAFETY: a fresh chunk with room for the descriptor and `size` bytes.
        let held = unsafe {
            (*c).region = r;
            (*c).next = reg.chunks;
            (*c).size
        };
        reg.chunks = c;
        reg.chunk_count += 1;
        reg.held_bytes += held;
        stats::chunk_taken(held, false);
        reg.retired_bytes += size;
        stats::bytes_accounted(size);
        // SAFETY: heap chunk.
        return (unsafe { chunk_data(c) }, c);
    }
    retire_current(reg);
    let class = class_for(size, u32::from(reg.next_class));
    // SAFETY: a spare is an unused pooled chunk of this thread.
    let spare_fits = !reg.spare_chunk.is_null() && unsafe { (*reg.spare_chunk).class } >= class;
    let (c, from_pool) = if spare_fits {
        (std::mem::replace(&mut reg.spare_chunk, null_mut()), true)
    } else {
        pool::take_chunk(class)
    };
    // SAFETY: `c` is a pooled chunk (the spare may be larger than asked).
    let class = unsafe { (*c).class };
    // SAFETY: an unused pooled chunk of `class_size(class)` bytes, which
    // holds the descriptor and `size` bytes.
    unsafe {
        let data = install_chunk(reg, r, c, size, class_size(class));
        // With a quota, end the usable part of the chunk at the quota so the
        // allocation that crosses it takes the slow path and is reported
        // exactly (the chunk tail is wasted; quotas are a debugging aid).
        if quota != 0 {
            let allowed = (quota as usize).saturating_sub(reg.retired_bytes);
            reg.limit = reg.limit.min(data.add(allowed.max(size)));
        }
        reg.chunk_count += 1;
        reg.held_bytes += class_size(class);
        reg.next_class = (class + 1).min(u32::from(reg.max_class)) as u8;
        stats::chunk_taken(class_size(class), from_pool);
        (data, c)
    }
}

/// Make the unused chunk `c` (of `bytes` bytes) region `r`'s current chunk,
/// its first `size` bytes allocated; returns the start of its data.
///
/// # Safety
/// `c` is an unused chunk of this thread of `bytes` bytes, which hold the
/// descriptor and `size` bytes; `reg` is `r`'s control block.
#[inline(always)]
unsafe fn install_chunk(
    reg: &mut Region,
    r: *mut Region,
    c: *mut ChunkHeader,
    size: usize,
    bytes: usize,
) -> *mut u8 {
    // SAFETY: caller contract.
    unsafe {
        (*c).region = r;
        (*c).next = reg.chunks;
        let data = chunk_data(c);
        reg.chunks = c;
        reg.current_chunk = c;
        reg.current_start = data;
        reg.bump = data.add(size);
        reg.limit = (c as *mut u8).add(bytes);
        data
    }
}

/// Report a region that would exceed the (nonzero) debug quota `quota`.
fn check_quota(reg: &Region, size: usize, quota: u64) {
    let total = reg.retired_bytes + current_used(reg) + size;
    if total as u64 > quota {
        fatal(format_args!(
            "region exceeded quota; likely escape/retention: region {} (depth {}) would hold {} bytes, \
             quota {} bytes (OMNI_REGION_QUOTA_BYTES); region created at {}",
            RegionId(reg.id),
            reg.depth,
            total,
            quota,
            describe_site(reg.site)
        ));
    }
}

// ------------------------------------------------------------ finalizable objects

/// Word index, in a finalizable object, of the link to the next finalizable
/// object of the same region (words 0 and 1 are the header and the slot a
/// forwarding object reuses, so the link survives `forward_to`).
pub const FINAL_LINK_WORD: usize = 3;

crate::base::atomics::runtime_static!(FINALIZE_HOOK: PublishedPtr<()> = PublishedPtr::new(); fn finalize_hook_cell);

/// Register the function run on every finalizable object when the region
/// holding it is reclaimed (the heap layer's handle release; the first
/// registration wins). It must not allocate in, exit or merge the region
/// being reclaimed; it may release other regions.
pub fn set_finalize_hook(f: unsafe fn(*mut u64)) {
    if !finalize_hook_cell().ptr_load().is_null() {
        return;
    }
    finalize_hook_cell().ptr_publish_once(f as *mut ());
}

/// Put `obj`, just allocated in `r`, on `r`'s list of finalizable objects:
/// the finalize hook runs on it when the region holding it is reclaimed.
///
/// # Safety
/// `r` is a live region owned by the calling thread, `obj` an object of at
/// least `FINAL_LINK_WORD + 1` words allocated in `r`, registered once, and
/// the hook has been set.
pub unsafe fn region_register_finalizer(r: *mut Region, obj: *mut u64) {
    // SAFETY: caller contract: we own `r`, and `obj` is large enough.
    unsafe {
        obj.add(FINAL_LINK_WORD).write((*r).finalizers as u64);
        (*r).finalizers = obj;
    }
}

/// Run the finalize hook on every finalizable object of a region being
/// reclaimed (before its chunks are released: the hook reads the objects).
///
/// # Safety
/// The caller is the unique reclaimer of the region whose list `head` is.
unsafe fn run_finalizers(mut head: *mut u64) {
    while !head.is_null() {
        // SAFETY: every listed object lies in a chunk of the region being
        // reclaimed (registration and merge keep the list in step with the
        // chunks), which nobody else reads any more; the link is read before
        // the object is finalized.
        unsafe {
            let next = *head.add(FINAL_LINK_WORD) as *mut u64;
            if (*head & crate::base::value::KIND_MASK) as u8 == ObjKind::Hold as u8 {
                hold::release_hold(head);
            } else {
                finalize_hook()(head);
            }
            head = next;
        }
    }
}

/// The registered finalize hook (channel and thread handles).
fn finalize_hook() -> unsafe fn(*mut u64) {
    let f = finalize_hook_cell().ptr_load();
    if f.is_null() {
        fatal(format_args!("finalizable object without a finalize hook"));
    }
    // SAFETY: only `set_finalize_hook` publishes here, an `unsafe fn(*mut u64)`.
    unsafe { std::mem::transmute::<*mut (), unsafe fn(*mut u64)>(f) }
}

// ------------------------------------------------------------ lookup and order

/// The region holding a heap object.
///
/// # Safety
/// `obj` must be a pointer value to a live object.
#[inline(always)]
pub unsafe fn region_of(obj: Value) -> *mut Region {
    debug_assert!(is_ptr(obj));
    // SAFETY: every object starts with a header naming its chunk descriptor,
    // and the descriptor names the region that owns the chunk now.
    unsafe {
        let chunk = header_chunk(*(obj as *const u64)) as *const ChunkHeader;
        (*chunk).region
    }
}

/// `a` is older than or the same as `b` in the age order (global oldest,
/// then by nesting depth, then by creation sequence). A pointer from an
/// object in `b` to one in `a` is allowed iff this holds.
///
/// # Safety
/// Both are live regions (or control blocks whose identity is still valid).
#[inline]
pub unsafe fn is_older_or_same(a: *mut Region, b: *mut Region) -> bool {
    if a == b {
        return true;
    }
    // SAFETY: caller contract; id/depth/is_global are immutable while live.
    unsafe {
        if (*a).is_global {
            return true;
        }
        if (*b).is_global {
            return false;
        }
        ((*a).depth, (*a).id) < ((*b).depth, (*b).id)
    }
}

// ------------------------------------------------------------ liveness

fn tether_count_of(word: u64) -> u64 {
    (word & TETHER_MASK) >> TETHER_SHIFT
}

fn external_count_of(word: u64) -> u64 {
    word >> EXTERNAL_SHIFT
}

/// End a region's scope. The region is reclaimed now unless external
/// references or tethers keep it alive (then the last of them reclaims it).
///
/// # Safety
/// `r` is a region whose scope has not been exited yet.
pub unsafe fn region_exit(r: *mut Region) {
    // SAFETY: caller contract (misuse is detected below as far as possible).
    let reg = unsafe { &*r };
    if reg.is_global {
        fatal(format_args!("exit of the global region"));
    }
    if cfg!(debug_assertions) && reg.owner != pool::current_thread_serial() {
        fatal(format_args!(
            "region {} exited by a thread that does not own it",
            RegionId(reg.id)
        ));
    }
    pool::end_scope(r);
    let prev = reg.liveness.rc_decrement_sole_fast(SCOPE_BIT);
    if prev & SCOPE_BIT == 0 {
        if prev == 0 {
            fatal(format_args!(
                "double exit of region {}: it was already reclaimed",
                RegionId(reg.id)
            ));
        }
        fatal(format_args!(
            "double exit of region {} (still held by {} external reference(s), {} tether(s))",
            RegionId(reg.id),
            external_count_of(prev),
            tether_count_of(prev)
        ));
    }
    if prev == SCOPE_BIT {
        // SAFETY: we made the last liveness reference go away.
        unsafe { reclaim(r) };
    }
}

/// Empty the open scope region `r` in place when exiting it would reclaim
/// it now and creating the next one would give the same region: only its
/// scope keeps it alive (no hold, tether, external reference or merge), it
/// has no finalizer and everything in it sits in its one chunk. Its objects
/// are gone as if it had been reclaimed (the bytes count as allocated, the
/// memory is poisoned in debug builds, the epoch moves on), and the bump
/// pointer starts over. Returns false, changing nothing, otherwise.
///
/// A loop's Float region (mbrot: six Floats per iteration) was created and
/// reclaimed once per iteration before: a third of the program's time.
///
/// # Safety
/// `r` is a live scope region of the calling thread, open at the innermost
/// position the loop's back edge leaves it in.
pub unsafe fn region_reset_sole_scope(r: *mut Region) -> bool {
    // SAFETY: caller contract.
    let reg = unsafe { &mut *r };
    if reg.liveness.load_snapshot() != SCOPE_BIT
        || reg.retired_bytes != 0
        || reg.chunk_count > 1
        || !reg.finalizers.is_null()
        || !reg.merged_into.is_null()
        || reg.pin
        || reg.state_version
        || reg.is_global
    {
        return false;
    }
    let used = current_used(reg);
    if used != 0 {
        stats::bytes_accounted(used);
        // SAFETY: the `used` bytes from the chunk's start belong to this
        // region's objects, which nothing refers to any more (only the
        // scope held the region).
        unsafe { poison(reg.current_start, used) };
        reg.bump = reg.current_start;
    }
    reg.epoch.epoch_advance();
    true
}

/// A new pin region for an activation's first pin (rt/state_abi.rs): one
/// of the thread's parked pin regions (`region_exit_pin`) when there is
/// one, else a region created and marked as a pin. A parked one is opened
/// as a new scope exactly as `region_create` opens one (a new sequence
/// number, the depth of the thread's open scopes + 1, on top of the
/// open-region stack), with its one chunk installed and empty, no hold and
/// only its scope keeping it alive: the store barrier, the merge and the
/// coroutine bookkeeping cannot tell it from a fresh one.
pub fn region_create_pin() -> *mut Region {
    let r = pool::unpark_pin();
    if r.is_null() {
        let r = region_create();
        // SAFETY: `r` was just created by this thread.
        unsafe { region_make_pin(r) };
        return r;
    }
    stats::region_created();
    // SAFETY: a parked pin region of this thread, holding its one chunk.
    stats::chunk_taken(unsafe { (*r).held_bytes }, true);
    r
}

/// End an activation's pin region. When only its scope keeps it alive
/// (nothing was merged into it, no tether, no reference) and everything in
/// it sits in its one chunk — every pin in practice: it holds state
/// versions and nothing else — its holds are released (the pinned versions
/// may go now, as when it is reclaimed), its objects are gone as if it had
/// been reclaimed (bytes accounted, memory poisoned in debug builds, epoch
/// advanced) and the control block is parked with its chunk for the next
/// first pin (`region_create_pin`); its chunk counts as pooled memory while
/// parked. Otherwise, or when enough are parked, it is exited as any region.
///
/// interp (a recursive evaluator that pins in most activations) created and
/// reclaimed a region for 224 000 pins at size 12: 8% of its instructions.
///
/// # Safety
/// `r` is a live pin region of this thread whose scope has not ended
/// (`region_create_pin`), exited once.
pub unsafe fn region_exit_pin(r: *mut Region) {
    // SAFETY: caller contract.
    let reg = unsafe { &mut *r };
    if !reg.pin
        || reg.liveness.load_snapshot() != SCOPE_BIT
        || reg.chunk_count != 1
        || reg.retired_bytes != 0
        || !reg.merged_into.is_null()
        || (cfg!(debug_assertions) && reg.owner != pool::current_thread_serial())
    {
        // SAFETY: caller contract.
        return unsafe { region_exit(r) };
    }
    let finalizers = std::mem::replace(&mut reg.finalizers, null_mut());
    if !finalizers.is_null() {
        // SAFETY: the objects listed are in `r`'s chunk, which nothing
        // refers to any more (only the scope held the region).
        unsafe { run_finalizers(finalizers) };
    }
    // SAFETY: `r` is open with one chunk and referred to by nothing; its
    // objects are emptied out below, before any other use of the block.
    if !unsafe { pool::park_pin(r) } {
        // SAFETY: caller contract (the holds are released already).
        return unsafe { region_exit(r) };
    }
    let used = current_used(reg);
    // SAFETY: the `used` bytes from the chunk's start belong to the
    // region's objects, gone now.
    unsafe { poison(reg.current_start, used) };
    reg.bump = reg.current_start;
    reg.epoch.epoch_advance();
    // The objects' bytes count as allocated, the chunk as pooled.
    stats::region_reclaimed(used, reg.held_bytes, reg.held_bytes);
}

/// Exit a region's scope, asserting that nothing else keeps it alive: it is
/// reclaimed now. Aborts if a tether pins it ("destroy while pinned") or an
/// external reference holds it.
///
/// # Safety
/// As `region_exit`.
pub unsafe fn region_destroy(r: *mut Region) {
    // SAFETY: caller contract.
    let word = unsafe { (*r).liveness.load_snapshot() };
    // SAFETY: caller contract (a readable control block).
    let id = unsafe { RegionId((*r).id) };
    if tether_count_of(word) > 0 {
        fatal(format_args!(
            "destroy of region {id} while pinned by {} tether(s)",
            tether_count_of(word)
        ));
    }
    if external_count_of(word) > 0 {
        fatal(format_args!(
            "destroy of region {id} while {} external reference(s) remain",
            external_count_of(word)
        ));
    }
    // SAFETY: caller contract.
    unsafe { region_exit(r) }
}

/// Take an external reference (the region must outlive something that is not
/// its scope: a returned value, a closure, a global, a channel message).
///
/// # Safety
/// `r` is alive and the caller already holds a counted reference to it
/// (its scope, a tether or another external reference).
pub unsafe fn region_retain(r: *mut Region) {
    // SAFETY: caller contract.
    let prev = unsafe { (*r).liveness.rc_increment(EXTERNAL_UNIT) };
    if prev == 0 {
        // SAFETY: still the same block (pooled blocks are never freed in
        // debug builds; in release this is a best-effort message).
        fatal(format_args!("retain of reclaimed region {}", unsafe {
            RegionId((*r).id)
        }));
    }
    stats::count(Counter::ExternalRetains, 1);
}

/// Drop an external reference; reclaims the region if it was the last thing
/// keeping it alive.
///
/// # Safety
/// The caller owns one external reference to `r`.
pub unsafe fn region_release(r: *mut Region) {
    stats::count(Counter::ExternalReleases, 1);
    // SAFETY: caller contract.
    unsafe { drop_liveness(r, EXTERNAL_UNIT) }
}

/// Add a tether (see tether.rs).
///
/// # Safety
/// `r` is alive and the caller holds a counted reference to it.
pub(crate) unsafe fn liveness_add_tether(r: *mut Region) -> u64 {
    // SAFETY: caller contract.
    let prev = unsafe { (*r).liveness.rc_increment(TETHER_UNIT) };
    if prev == 0 || tether_count_of(prev) == (TETHER_MASK >> TETHER_SHIFT) {
        fatal(format_args!(
            "tether of reclaimed or over-tethered region {}",
            // SAFETY: as in `region_retain`.
            unsafe { RegionId((*r).id) }
        ));
    }
    prev
}

/// Drop a tether; reclaims the region if it was the last thing keeping it alive.
///
/// # Safety
/// The caller owns one tether on `r`.
pub(crate) unsafe fn liveness_drop_tether(r: *mut Region) {
    // SAFETY: caller contract.
    unsafe { drop_liveness(r, TETHER_UNIT) }
}

/// Subtract one `unit` (external reference or tether) from the liveness word.
///
/// # Safety
/// The caller owns one such unit.
unsafe fn drop_liveness(r: *mut Region, unit: u64) {
    // SAFETY: caller contract.
    let prev = unsafe { (*r).liveness.rc_decrement(unit) };
    let field = if unit == EXTERNAL_UNIT {
        external_count_of(prev)
    } else {
        tether_count_of(prev)
    };
    if field == 0 {
        let what = if unit == EXTERNAL_UNIT {
            "external RC underflow"
        } else {
            "tether_end without tether_start"
        };
        // SAFETY: as in `region_retain`.
        fatal(format_args!("{what} on region {}", unsafe {
            RegionId((*r).id)
        }));
    }
    if prev == unit {
        // SAFETY: this decrement reached zero.
        unsafe { reclaim(r) };
    }
}

/// Free a region whose liveness word reached zero, then drop the reference
/// it held on the region it was merged into (iteratively, so a long merge
/// chain cannot overflow the stack).
///
/// # Safety
/// `r`'s liveness word just reached zero in this thread.
unsafe fn reclaim(mut r: *mut Region) {
    loop {
        // SAFETY: we are the unique reclaimer of `r`.
        let next = unsafe { reclaim_one(r) };
        if next.is_null() {
            return;
        }
        // SAFETY: `r` held one external reference on `next`.
        let prev = unsafe { (*next).liveness.rc_decrement(EXTERNAL_UNIT) };
        if external_count_of(prev) == 0 {
            // SAFETY: `next` is still a control block.
            fatal(format_args!("external RC underflow on region {}", unsafe {
                RegionId((*next).id)
            }));
        }
        if prev != EXTERNAL_UNIT {
            return;
        }
        r = next;
    }
}

/// Release the chunks and the control block of one region; returns the
/// region it was merged into (whose reference must be dropped), or null.
///
/// # Safety
/// As `reclaim`.
unsafe fn reclaim_one(r: *mut Region) -> *mut Region {
    #[cfg(loom)]
    loom_reclaim_observed(r);
    // SAFETY: nothing else refers to `r` any more; we own its chunks.
    unsafe {
        let reg = &mut *r;
        // The sole-holder fast path leaves the word non-zero; make the
        // reclaim visible to `region_is_alive` and to misuse detection.
        reg.liveness.init_unshared(0);
        let finalizers = std::mem::replace(&mut reg.finalizers, null_mut());
        if !finalizers.is_null() {
            run_finalizers(finalizers);
        }
        let pending = current_used(reg);
        let held = reg.held_bytes;
        let mut pooled = 0;
        let mut c = reg.chunks;
        while !c.is_null() {
            let next = (*c).next;
            pooled += release_chunk(c, r);
            c = next;
        }
        reg.chunks = null_mut();
        reg.held_bytes = 0;
        reg.bump = null_mut();
        reg.limit = null_mut();
        reg.epoch.epoch_advance();
        let merged_into = reg.merged_into;
        stats::region_reclaimed(pending, held, pooled);
        if !reg.is_global {
            pool::give_block(r);
        }
        merged_into
    }
}

#[cfg(loom)]
crate::base::atomics::runtime_static!(RECLAIM_HOOK: PublishedPtr<()> = PublishedPtr::new(); fn reclaim_hook);

/// Loom only: call `f` at the start of every reclaim, so a model test can
/// check that the reclaiming thread sees every write made before the last
/// reference was dropped (and count reclaims).
#[cfg(loom)]
pub fn loom_set_reclaim_hook(f: fn(*mut Region)) {
    reclaim_hook().ptr_publish_once(f as *mut ());
}

#[cfg(loom)]
fn loom_reclaim_observed(r: *mut Region) {
    let f = reclaim_hook().ptr_load();
    if !f.is_null() {
        // SAFETY: only `loom_set_reclaim_hook` publishes here, a `fn(*mut Region)`.
        let f: fn(*mut Region) = unsafe { std::mem::transmute(f) };
        f(r);
    }
}

/// Give one chunk of reclaimed region `r` back: the first free first-size
/// chunk stays with `r`'s control block as its spare, others go to the
/// pool (or the system). Returns the bytes that stay pooled.
///
/// # Safety
/// The chunk belongs to the region `r` being reclaimed.
unsafe fn release_chunk(c: *mut ChunkHeader, r: *mut Region) -> usize {
    // SAFETY: the chunk is ours and no object in it is reachable any more.
    unsafe {
        let size = (*c).size;
        poison(chunk_data(c), size - CHUNK_HEADER_BYTES);
        match (*c).kind {
            ChunkKind::Pooled => {
                (*c).region = null_mut();
                // The region's chunks are listed newest (largest) first, so
                // the spare is the largest one up to SPARE_MAX_CLASS.
                if (*c).class <= SPARE_MAX_CLASS && (*r).spare_chunk.is_null() && !(*r).is_global {
                    (*r).spare_chunk = c;
                    return size;
                }
                if pool::give_chunk(c) {
                    return size;
                }
            }
            ChunkKind::Dedicated => system_free_chunk(c),
        }
        0
    }
}

// ------------------------------------------------------------ queries

/// # Safety
/// `r` is a live region (or a reclaimed block, for the epoch/id).
pub unsafe fn region_id(r: *mut Region) -> RegionId {
    // SAFETY: caller contract.
    RegionId(unsafe { (*r).id })
}

/// # Safety
/// `r` is a control block that is still readable (see pool.rs).
pub unsafe fn region_epoch(r: *mut Region) -> u64 {
    // SAFETY: caller contract.
    unsafe { (*r).epoch.epoch_load() }
}

/// The region `r` was merged into, or null.
///
/// # Safety
/// `r` is live.
pub unsafe fn region_merged_into(r: *mut Region) -> *mut Region {
    // SAFETY: caller contract.
    unsafe { (*r).merged_into }
}

/// Stop `r`'s chunks from growing past `bytes` (rounded down to a size
/// class; larger objects still get chunks of their own size). A region
/// whose size the runtime keeps near a limit (a loop's carry region) then
/// holds at most one partly used chunk of that size beyond what it uses,
/// instead of up to half its bytes in the unused tail of a doubling chain.
///
/// # Safety
/// `r` is a live region owned by the calling thread.
pub unsafe fn region_cap_chunks(r: *mut Region, bytes: usize) {
    let mut class = 0;
    while class < CHUNK_MAX_SHIFT - CHUNK_MIN_SHIFT && chunk::class_size(class + 1) <= bytes {
        class += 1;
    }
    // SAFETY: caller contract: only the owning thread writes its regions.
    unsafe { (*r).max_class = class as u8 }
}

/// A loop's carry bookkeeping (rt/region_abi.rs, docs/CTRR.md "Loop carry
/// regions"), kept in its young carry region's control block (the old
/// generation's limit in the old one's), to a KiB.
#[derive(Clone, Copy, Debug)]
pub struct CarryBook {
    /// The young region's bytes when a back edge last found it over its
    /// limit without renewing it (0: none).
    pub mark: usize,
    /// The loop's old generation: what survived the young regions so far
    /// (null before the first renewal).
    pub old: *mut Region,
    /// The old generation's bytes at which it is renewed itself.
    pub old_limit: usize,
    /// The factor `old_limit` was last set with (old live bytes × factor).
    pub growth: usize,
    /// The last young region was mostly live: the next one is absorbed
    /// into the old generation whole rather than copied.
    pub absorb: bool,
}

/// The carry bookkeeping of the young carry region `r`.
///
/// # Safety
/// `r` is a live region owned by the calling thread, and so is its old
/// generation if it has one.
pub unsafe fn region_carry_book(r: *mut Region) -> CarryBook {
    // SAFETY: caller contract.
    unsafe {
        let y = &*r;
        CarryBook {
            mark: (y.carry_kib as usize) << 10,
            old: y.link,
            old_limit: if y.link.is_null() {
                0
            } else {
                ((*y.link).carry_kib as usize) << 10
            },
            growth: usize::from(y.carry_growth),
            absorb: y.carry_absorb,
        }
    }
}

/// Set the carry bookkeeping of the young carry region `r`.
///
/// # Safety
/// As `region_carry_book`, for `book.old` too.
pub unsafe fn set_region_carry_book(r: *mut Region, book: CarryBook) {
    let kib = |bytes: usize| (bytes >> 10).min(u32::MAX as usize) as u32;
    // SAFETY: caller contract: only the owning thread writes its regions.
    unsafe {
        let y = &mut *r;
        y.carry_kib = kib(book.mark);
        y.link = book.old;
        y.carry_growth = book.growth.min(u8::MAX as usize) as u8;
        y.carry_absorb = book.absorb;
        if !book.old.is_null() {
            (*book.old).carry_kib = kib(book.old_limit);
        }
    }
}

/// The source location that created `r`.
///
/// # Safety
/// `r` is a live region.
pub unsafe fn region_site(r: *mut Region) -> AllocSite {
    // SAFETY: caller contract.
    AllocSite(unsafe { (*r).site })
}

/// Bytes allocated in `r` (merged-in regions included).
///
/// # Safety
/// `r` is live and owned by the calling thread.
pub unsafe fn region_bytes(r: *mut Region) -> usize {
    // SAFETY: caller contract.
    unsafe { (*r).retired_bytes + current_used(&*r) }
}

/// A snapshot of `r`'s accounting and liveness.
///
/// # Safety
/// `r` is live and owned by the calling thread.
pub unsafe fn region_accounting(r: *mut Region) -> RegionAccounting {
    // SAFETY: caller contract.
    unsafe {
        let reg = &*r;
        let word = reg.liveness.load_snapshot();
        RegionAccounting {
            id: RegionId(reg.id),
            depth: reg.depth,
            bytes: region_bytes(r),
            chunks: reg.chunk_count,
            held_bytes: reg.held_bytes,
            external_rc: external_count_of(word),
            tethers: tether_count_of(word),
            scope_alive: word & SCOPE_BIT != 0,
            epoch: reg.epoch.epoch_load(),
        }
    }
}

/// Whether `r` has not been reclaimed (a snapshot: another thread may drop
/// the last reference right after).
///
/// # Safety
/// `r` is a readable control block.
pub unsafe fn region_is_alive(r: *mut Region) -> bool {
    // SAFETY: caller contract.
    unsafe { (*r).liveness.load_snapshot() != 0 }
}

/// Debug tripwire for "no pointer into a dead region": abort if `v` points
/// into poisoned memory or into a region that has been reclaimed.
///
/// # Safety
/// If `v` is a pointer it points into region memory that is still mapped
/// (debug builds keep pooled memory mapped).
pub unsafe fn debug_check_live(v: Value) {
    if !is_ptr(v) {
        return;
    }
    // SAFETY: caller contract.
    unsafe {
        let h = *(v as *const u64);
        if h == POISON_WORD {
            fatal(format_args!(
                "pointer {v:#x} into reclaimed (poisoned) region memory"
            ));
        }
        let r = region_of(v);
        if r.is_null() || (*r).liveness.load_snapshot() == 0 {
            fatal(format_args!("pointer {v:#x} into a dead region"));
        }
    }
}
