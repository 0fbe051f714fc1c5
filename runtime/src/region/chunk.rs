//! Chunks: the blocks of memory a region bump-allocates in. Every chunk
//! starts with a `ChunkHeader` (its descriptor), whose address every object
//! header records, so `region_of` is header → descriptor → region. This
//! module sizes chunks (geometric growth in power-of-two classes so the pool
//! can reuse them), gets them from and returns them to the system allocator,
//! and poisons released memory in debug builds.

use super::Region;
use std::alloc::{alloc, dealloc, Layout};

/// What a chunk is, which decides how it is released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ChunkKind {
    /// A power-of-two chunk of size class `class`; goes back to the pool.
    Pooled = 2,
    /// A chunk sized for one large allocation; goes back to the system.
    Dedicated = 3,
}

/// The descriptor at the start of every chunk.
#[repr(C)]
pub struct ChunkHeader {
    /// The region that owns this chunk now. A merge re-points it.
    pub region: *mut Region,
    /// The next chunk of the owning region's chunk list (or of a pool list).
    pub next: *mut ChunkHeader,
    /// Total size in bytes, descriptor included.
    pub size: usize,
    pub kind: ChunkKind,
    /// Size class for `Pooled` chunks.
    pub class: u32,
}

pub const CHUNK_HEADER_BYTES: usize = std::mem::size_of::<ChunkHeader>();
/// Smallest pooled chunk (class 0: 128 bytes, a region's first chunk) and
/// largest (the growth cap: 1 MiB).
pub const CHUNK_MIN_SHIFT: u32 = 7;
pub const CHUNK_MAX_SHIFT: u32 = 20;
#[cfg_attr(loom, allow(dead_code))]
pub const NUM_CHUNK_CLASSES: usize = (CHUNK_MAX_SHIFT - CHUNK_MIN_SHIFT + 1) as usize;
/// Allocations larger than this get a dedicated chunk instead of wasting the
/// tail of a pooled one.
pub const DEDICATED_THRESHOLD: usize = (1 << CHUNK_MAX_SHIFT) / 4;
const CHUNK_ALIGN: usize = 16;

/// Byte pattern written over released memory in debug builds; a header word
/// full of it is recognised by `region::debug_check_live`.
pub const POISON_BYTE: u8 = 0xDB;
pub const POISON_WORD: u64 = 0xDBDB_DBDB_DBDB_DBDB;

#[inline]
pub fn class_size(class: u32) -> usize {
    1usize << (CHUNK_MIN_SHIFT + class)
}

/// The smallest class whose chunk holds `need` bytes after the descriptor,
/// at least `min_class`.
pub fn class_for(need: usize, min_class: u32) -> u32 {
    let total = need + CHUNK_HEADER_BYTES;
    let mut class = min_class;
    while class_size(class) < total {
        class += 1;
    }
    class
}

/// The largest single allocation the runtime attempts (1 TiB, beyond the
/// memory of the machines it runs on). A larger request — or a size
/// computation that saturated — is the error "out of memory" at once,
/// never an abort.
pub const MAX_ALLOC_BYTES: usize = 1 << 40;

/// Raise the (catchable) runtime error for an allocation of `bytes` that
/// cannot be satisfied. Raised before any allocator state changes, so a
/// `try` that catches it leaves the region consistent.
#[cold]
#[inline(never)]
pub fn out_of_memory(bytes: usize) -> ! {
    let what = if bytes >= MAX_ALLOC_BYTES {
        format!("more than {MAX_ALLOC_BYTES} bytes")
    } else {
        format!("{bytes} bytes")
    };
    crate::base::raise::raise(format!("out of memory: cannot allocate {what}"), 0)
}

/// Get a fresh chunk from the system allocator (the error "out of memory"
/// when it has none).
pub fn system_alloc_chunk(size: usize, kind: ChunkKind, class: u32) -> *mut ChunkHeader {
    if size > MAX_ALLOC_BYTES {
        out_of_memory(size);
    }
    let layout = Layout::from_size_align(size, CHUNK_ALIGN).expect("chunk layout");
    // SAFETY: `size` is at least CHUNK_HEADER_BYTES > 0.
    let mem = crate::base::heap_count::fallible(|| unsafe { alloc(layout) });
    if mem.is_null() {
        out_of_memory(size);
    }
    if size >= PREFAULT_MIN_BYTES {
        prefault(mem, size);
    }
    let c = mem as *mut ChunkHeader;
    // SAFETY: `mem` is a fresh, aligned block of `size` >= header bytes.
    unsafe {
        c.write(ChunkHeader {
            region: std::ptr::null_mut(),
            next: std::ptr::null_mut(),
            size,
            kind,
            class,
        })
    };
    c
}

/// Chunks of at least this size (the largest class, which a region takes
/// only after filling 1 MiB of smaller ones, and dedicated chunks for one
/// big object) are prefaulted when they come from the system allocator.
/// Smaller ones are often left partly empty: prefaulting 256 KiB chunks too
/// added 6 MB to json's peak RSS.
const PREFAULT_MIN_BYTES: usize = 1 << CHUNK_MAX_SHIFT;

#[cfg(target_os = "linux")]
extern "C" {
    fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
}

/// `MADV_POPULATE_WRITE` (Linux 5.14): fault the range in, writable, in one
/// call.
#[cfg(target_os = "linux")]
const MADV_POPULATE_WRITE: i32 = 23;

/// Fault in the whole pages of the fresh block `mem..mem+size` at once. A
/// region fills its chunks front to back, so every page of a big chunk is
/// about to be written; one `madvise` makes the kernel map them in a batch
/// instead of taking a trap per 4 KiB page on first touch. cfold allocates
/// 700 MB of fresh pages and spent about a third of its time in the
/// kernel's page-fault path (issue 13); a C loop touching 512 MiB of fresh
/// 1 MiB blocks took 0.46-0.56 s faulting page by page and 0.29-0.37 s after
/// this call. Memory the allocator hands out again is already mapped: the
/// call then only walks its page tables. Failure (an older kernel without
/// the advice, or memory pressure) is harmless: the pages fault in on first
/// touch as before.
fn prefault(mem: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (mem as usize).next_multiple_of(PAGE);
        let end = (mem as usize + size) & !(PAGE - 1);
        if end > start {
            // SAFETY: `start..end` lies inside the block the allocator just
            // handed out, which nothing else uses; the advice only maps its
            // pages in, as writing them would, and changes no contents.
            let _ = unsafe { madvise(start as *mut u8, end - start, MADV_POPULATE_WRITE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (mem, size);
}

/// Return a chunk to the system allocator.
///
/// # Safety
/// `c` came from `system_alloc_chunk` and nothing refers to it any more.
pub unsafe fn system_free_chunk(c: *mut ChunkHeader) {
    // SAFETY: size/alignment are the ones `system_alloc_chunk` used.
    unsafe {
        let size = (*c).size;
        let layout = Layout::from_size_align_unchecked(size, CHUNK_ALIGN);
        dealloc(c as *mut u8, layout);
    }
}

/// First usable byte of a heap chunk.
///
/// # Safety
/// `c` is a heap (pooled or dedicated) chunk.
#[inline]
pub unsafe fn chunk_data(c: *mut ChunkHeader) -> *mut u8 {
    // SAFETY: the chunk is at least CHUNK_HEADER_BYTES long.
    unsafe { (c as *mut u8).add(CHUNK_HEADER_BYTES) }
}

/// Overwrite `len` bytes at `p` with the poison pattern (debug builds only;
/// release builds skip it, it costs a pass over the memory).
///
/// # Safety
/// `p..p+len` is writable memory no live object uses any more.
#[inline]
pub unsafe fn poison(p: *mut u8, len: usize) {
    #[cfg(debug_assertions)]
    // SAFETY: forwarded caller contract.
    unsafe {
        std::ptr::write_bytes(p, POISON_BYTE, len)
    };
    #[cfg(not(debug_assertions))]
    let _ = (p, len);
}
