//! The per-thread cache behind region creation: a free list of control
//! blocks, free lists of chunks per size class, a reserved range of region
//! sequence numbers, the thread's open-scope depth and its serial number.
//! Creating and exiting a short-lived region therefore touches neither the
//! system allocator nor a shared atomic in the common case.
//!
//! Debug builds never hand control blocks back to the system allocator: a
//! stale `BorrowedRef` may still read a reclaimed block's epoch, which must
//! stay readable (the pool then grows to the peak number of live regions).
//! Under `cfg(loom)` there is no cache (loom runs its threads on one OS
//! thread, so a thread-local would be shared): blocks and chunks come straight
//! from the system allocator and sequence numbers from the shared counter.

// Under loom the cache (and its tuning constants) does not exist.
#![cfg_attr(loom, allow(dead_code, unused_imports))]

use super::chunk::{
    class_size, system_alloc_chunk, system_free_chunk, ChunkHeader, ChunkKind, NUM_CHUNK_CLASSES,
};
use super::Region;
use crate::base::atomics::SequenceCounter;
use crate::base::stats;
use std::alloc::{alloc, dealloc, Layout};

/// Control blocks kept per thread (release builds).
const BLOCK_POOL_MAX: usize = 1024;
/// Bytes of free chunks kept per thread, per size class.
const CHUNK_POOL_BYTES_PER_CLASS: usize = 4 << 20;
/// Sequence numbers a thread reserves at once from the shared counter.
const SEQ_BATCH: u64 = 256;
/// Exited pin regions kept per thread for the next first pins
/// (`park_pin`): activations nest, so a few cover a recursive evaluator's
/// pins that end one after another before the next ones start.
const PIN_CACHE_MAX: usize = 8;

struct Shared {
    /// Region creation sequence; 0 is the global region.
    region_seq: SequenceCounter,
    /// Thread serials; 0 means "no owner" (the global region).
    thread_serial: SequenceCounter,
}

crate::base::atomics::runtime_static!(SHARED: Shared = Shared {
    region_seq: SequenceCounter::new(1),
    thread_serial: SequenceCounter::new(1),
}; fn shared);

fn block_layout() -> Layout {
    Layout::new::<Region>()
}

/// A control block straight from the system allocator (the global region).
pub fn system_block() -> *mut Region {
    system_alloc_block()
}

fn system_alloc_block() -> *mut Region {
    let layout = block_layout();
    // SAFETY: Region has non-zero size.
    let p = unsafe { alloc(layout) } as *mut Region;
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    p
}

/// # Safety
/// `r` came from `system_alloc_block` and nothing refers to it any more.
unsafe fn system_free_block(r: *mut Region) {
    // SAFETY: the block is unused; its spare chunk (pooled memory) goes
    // with it.
    unsafe {
        let spare = std::mem::replace(&mut (*r).spare_chunk, std::ptr::null_mut());
        if !spare.is_null() {
            stats::pooled(-((*spare).size as i64));
            system_free_chunk(spare);
        }
    }
    if cfg!(debug_assertions) {
        return; // kept readable for stale-borrow checks (see module doc)
    }
    // SAFETY: same layout as the allocation.
    unsafe { dealloc(r as *mut u8, block_layout()) }
}

/// What `begin_region` hands to region creation.
pub struct RegionStart {
    pub block: *mut Region,
    /// The block's memory is uninitialised (never used as a region before).
    pub fresh: bool,
    pub seq: u64,
    pub depth: u32,
    pub owner: u64,
}

#[cfg(not(loom))]
mod cache {
    use super::*;
    use std::cell::Cell;

    pub(super) struct ThreadCache {
        pub free_blocks: Cell<*mut Region>,
        pub free_block_count: Cell<usize>,
        pub free_chunks: [Cell<*mut ChunkHeader>; NUM_CHUNK_CLASSES],
        pub free_chunk_count: [Cell<usize>; NUM_CHUNK_CLASSES],
        pub seq_next: Cell<u64>,
        pub seq_end: Cell<u64>,
        pub open_scopes: Cell<u32>,
        /// The youngest open scope region of the thread; each region links
        /// to the next older one (`Region::open_below`). Scopes nest, so this
        /// is a stack. The store barrier's merge uses it to find the regions
        /// between two in the age order.
        pub open_top: Cell<*mut Region>,
        pub serial: Cell<u64>,
        /// Exited pin regions, emptied, each with its one chunk, linked
        /// through `Region::link` (`park_pin`).
        pub parked_pins: Cell<*mut Region>,
        pub parked_pin_count: Cell<usize>,
    }

    impl ThreadCache {
        pub(super) const fn new() -> Self {
            ThreadCache {
                free_blocks: Cell::new(std::ptr::null_mut()),
                free_block_count: Cell::new(0),
                free_chunks: [const { Cell::new(std::ptr::null_mut()) }; NUM_CHUNK_CLASSES],
                free_chunk_count: [const { Cell::new(0) }; NUM_CHUNK_CLASSES],
                seq_next: Cell::new(0),
                seq_end: Cell::new(0),
                open_scopes: Cell::new(0),
                open_top: Cell::new(std::ptr::null_mut()),
                serial: Cell::new(0),
                parked_pins: Cell::new(std::ptr::null_mut()),
                parked_pin_count: Cell::new(0),
            }
        }

        pub(super) fn serial(&self) -> u64 {
            let s = self.serial.get();
            if s != 0 {
                return s;
            }
            let s = shared().thread_serial.seq_reserve(1);
            self.serial.set(s);
            s
        }

        pub(super) fn next_seq(&self) -> u64 {
            let n = self.seq_next.get();
            if n < self.seq_end.get() {
                self.seq_next.set(n + 1);
                return n;
            }
            let first = shared().region_seq.seq_reserve(SEQ_BATCH);
            self.seq_next.set(first + 1);
            self.seq_end.set(first + SEQ_BATCH);
            first
        }
    }

    impl Drop for ThreadCache {
        fn drop(&mut self) {
            let mut p = self.parked_pins.replace(std::ptr::null_mut());
            while !p.is_null() {
                // SAFETY: parked pin regions are unused (their holds were
                // released when they were parked); each owns one pooled
                // chunk, counted as pooled memory, and `link` links them.
                unsafe {
                    let next = (*p).link;
                    let c = (*p).chunks;
                    stats::pooled(-((*c).size as i64));
                    system_free_chunk(c);
                    system_free_block(p);
                    p = next;
                }
            }
            let mut b = self.free_blocks.replace(std::ptr::null_mut());
            while !b.is_null() {
                // SAFETY: pooled blocks are unused; `link` links them.
                unsafe {
                    let next = (*b).link;
                    system_free_block(b);
                    b = next;
                }
            }
            for list in &self.free_chunks {
                let mut c = list.replace(std::ptr::null_mut());
                while !c.is_null() {
                    // SAFETY: pooled chunks are unused; `next` links them.
                    unsafe {
                        let next = (*c).next;
                        stats::pooled(-((*c).size as i64));
                        system_free_chunk(c);
                        c = next;
                    }
                }
            }
        }
    }

    thread_local! {
        pub(super) static CACHE: ThreadCache = const { ThreadCache::new() };
    }
}

/// Everything region creation needs from the thread, in one thread-local
/// access: a control block, a sequence number, the nesting depth (the
/// thread's open scopes + 1, or `parent_depth + 1` when given) and the owner.
#[inline]
pub fn begin_region(parent_depth: Option<u32>) -> RegionStart {
    #[cfg(not(loom))]
    {
        let got = cache::CACHE.try_with(|c| {
            let open = c.open_scopes.get() + 1;
            c.open_scopes.set(open);
            let depth = parent_depth.map_or(open, |d| d + 1);
            let b = c.free_blocks.get();
            let (block, fresh) = if b.is_null() {
                (system_alloc_block(), true)
            } else {
                // SAFETY: pooled blocks are unused; `link` links them.
                c.free_blocks.set(unsafe { (*b).link });
                c.free_block_count.set(c.free_block_count.get() - 1);
                (b, false)
            };
            // SAFETY: `block` is an unused control block handed to this
            // thread; linking it writes only its `open_below` field.
            unsafe { std::ptr::addr_of_mut!((*block).open_below).write(c.open_top.get()) };
            c.open_top.set(block);
            RegionStart {
                block,
                fresh,
                seq: c.next_seq(),
                depth,
                owner: c.serial(),
            }
        });
        if let Ok(s) = got {
            return s;
        }
    }
    RegionStart {
        block: system_alloc_block(),
        fresh: true,
        seq: shared().region_seq.seq_reserve(1),
        depth: parent_depth.map_or(1, |d| d + 1),
        owner: 0,
    }
}

/// The scope of region `r` of this thread ended (keeps the open-scope depth
/// and the open-region stack in step; scopes nest, so `r` is normally on top).
#[inline]
pub fn end_scope(r: *mut Region) {
    #[cfg(not(loom))]
    let _ = cache::CACHE.try_with(|c| end_scope_in(c, r));
    #[cfg(loom)]
    let _ = r;
}

/// `end_scope` with the thread's cache at hand.
#[cfg(not(loom))]
#[inline]
fn end_scope_in(c: &cache::ThreadCache, r: *mut Region) {
    c.open_scopes.set(c.open_scopes.get().saturating_sub(1));
    // SAFETY: the open stack links control blocks of this thread whose
    // scopes have not ended, so every link read here is a live block.
    unsafe {
        let top = c.open_top.get();
        if top == r {
            c.open_top.set((*r).open_below);
            return;
        }
        // Not the innermost scope (scopes ended out of order): unlink it.
        let mut above = top;
        while !above.is_null() {
            let below = (*above).open_below;
            if below == r {
                (*above).open_below = (*r).open_below;
                return;
            }
            above = below;
        }
    }
}

/// Keep the exited pin region `r` for a later [`unpark_pin`]: its scope
/// ends (as `end_scope`) and it joins the thread's parked pins, unless
/// enough are parked already (then nothing changes and false is returned:
/// the caller exits it normally).
///
/// # Safety
/// `r` is an open pin region of this thread that nothing refers to any
/// more, emptied (no object, no hold) with one chunk (`region_park_pin`).
#[inline]
pub unsafe fn park_pin(r: *mut Region) -> bool {
    #[cfg(not(loom))]
    {
        let parked = cache::CACHE.try_with(|c| {
            let n = c.parked_pin_count.get();
            if n >= PIN_CACHE_MAX {
                return false;
            }
            end_scope_in(c, r);
            // SAFETY: caller contract: the block is ours and unused.
            unsafe { (*r).link = c.parked_pins.get() };
            c.parked_pins.set(r);
            c.parked_pin_count.set(n + 1);
            true
        });
        parked.unwrap_or(false)
    }
    #[cfg(loom)]
    {
        let _ = r;
        false
    }
}

/// A parked pin region opened again as a new scope of this thread (its
/// sequence number, depth and place on the open-region stack are those a
/// new region gets from `begin_region`), or null when none is parked.
#[inline]
pub fn unpark_pin() -> *mut Region {
    #[cfg(not(loom))]
    {
        cache::CACHE
            .try_with(|c| {
                let r = c.parked_pins.get();
                if r.is_null() {
                    return r;
                }
                let open = c.open_scopes.get() + 1;
                c.open_scopes.set(open);
                // SAFETY: a parked block of this thread (`park_pin`); only
                // this thread reads or writes it.
                unsafe {
                    c.parked_pins.set((*r).link);
                    (*r).link = std::ptr::null_mut();
                    (*r).open_below = c.open_top.get();
                    (*r).id = c.next_seq();
                    (*r).depth = open;
                }
                c.parked_pin_count.set(c.parked_pin_count.get() - 1);
                c.open_top.set(r);
                r
            })
            .unwrap_or(std::ptr::null_mut())
    }
    #[cfg(loom)]
    std::ptr::null_mut()
}

/// The calling thread's open scope regions, oldest first.
pub fn open_regions() -> Vec<*mut Region> {
    #[cfg(not(loom))]
    {
        let mut out = Vec::new();
        let _ = cache::CACHE.try_with(|c| {
            let mut r = c.open_top.get();
            while !r.is_null() {
                out.push(r);
                // SAFETY: as in `end_scope`: linked blocks are open scopes.
                r = unsafe { (*r).open_below };
            }
        });
        out.reverse();
        out
    }
    #[cfg(loom)]
    Vec::new()
}

/// The calling thread's serial (region owner id); 0 under loom.
pub fn current_thread_serial() -> u64 {
    #[cfg(not(loom))]
    {
        cache::CACHE.try_with(|c| c.serial()).unwrap_or(0)
    }
    #[cfg(loom)]
    {
        0
    }
}

/// Take back a control block nobody refers to any more; whether the
/// thread's pool kept it (else it went back to the system allocator). The
/// caller does the statistics.
///
/// # Safety
/// `r` is an unused control block from `begin_region`.
#[inline]
pub unsafe fn give_block(r: *mut Region) -> bool {
    #[cfg(not(loom))]
    {
        let kept = cache::CACHE
            .try_with(|c| {
                let n = c.free_block_count.get();
                if n >= BLOCK_POOL_MAX && !cfg!(debug_assertions) {
                    return false;
                }
                // SAFETY: the block is unused; we own it now.
                unsafe { (*r).link = c.free_blocks.get() };
                c.free_blocks.set(r);
                c.free_block_count.set(n + 1);
                true
            })
            .unwrap_or(false);
        if kept {
            return true;
        }
    }
    // SAFETY: forwarded contract.
    unsafe { system_free_block(r) };
    false
}

/// A chunk of size class `class` (descriptor fields other than `size`,
/// `kind` and `class` are for the caller to set), and whether it came from
/// the thread's pool (the caller does the statistics).
#[inline]
pub fn take_chunk(class: u32) -> (*mut ChunkHeader, bool) {
    #[cfg(not(loom))]
    {
        let got = cache::CACHE
            .try_with(|c| {
                let list = &c.free_chunks[class as usize];
                let head = list.get();
                if head.is_null() {
                    return head;
                }
                // SAFETY: pooled chunks are unused; `next` links them.
                list.set(unsafe { (*head).next });
                let n = &c.free_chunk_count[class as usize];
                n.set(n.get() - 1);
                head
            })
            .unwrap_or(std::ptr::null_mut());
        if !got.is_null() {
            return (got, true);
        }
    }
    (
        system_alloc_chunk(class_size(class), ChunkKind::Pooled, class),
        false,
    )
}

/// Take back a pooled chunk nobody uses any more; whether the thread's
/// pool kept it (the caller does the statistics).
///
/// # Safety
/// `ch` is an unused `Pooled` chunk.
#[inline]
pub unsafe fn give_chunk(ch: *mut ChunkHeader) -> bool {
    #[cfg(not(loom))]
    {
        // SAFETY: the chunk is unused; we own it.
        let class = unsafe { (*ch).class } as usize;
        let kept = cache::CACHE
            .try_with(|c| {
                let n = c.free_chunk_count[class].get();
                if (n + 1) * class_size(class as u32) > CHUNK_POOL_BYTES_PER_CLASS {
                    return false;
                }
                // SAFETY: as above.
                unsafe { (*ch).next = c.free_chunks[class].get() };
                c.free_chunks[class].set(ch);
                c.free_chunk_count[class].set(n + 1);
                true
            })
            .unwrap_or(false);
        if kept {
            return true;
        }
    }
    // SAFETY: forwarded contract.
    unsafe { system_free_chunk(ch) };
    false
}
