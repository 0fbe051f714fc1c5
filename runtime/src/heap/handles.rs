//! The Channel and Thread handle objects and their shared, reference-counted
//! cores (docs/REGION_THREADING_MODEL.md, "Reclaiming channels and
//! threads"). What the handles *do* (send, recv, spawn, join) is
//! `control::thread`.
//!
//! A handle is an ordinary object of the region it was allocated in,
//! `[hdr][forward slot][*HandleCore][finalizer link]` (32 bytes), so the
//! region machinery treats it like any other object: transmigration copies
//! it (`clone_handle`), a merge moves it, a store repair forwards it, its
//! region's reclaim ends it. The core (the channel's queue, the thread's
//! join handle) is one heap allocation shared by every handle that names it,
//! with an atomic count of those handles:
//!
//! - a new handle (`make_channel`, `make_thread`) starts the count at 1;
//!   every copy (`clone_handle`: a transmigration, hence every handoff at
//!   send/spawn/join and every return/store repair) adds 1 — the copier
//!   holds the original, so the count is at least 1 (relaxed increment);
//! - every handle is on its region's finalizer list
//!   (`region_register_finalizer`; a merge splices the list into the old
//!   region's), and the region's reclaim drops its count (`drop_handle`,
//!   release decrement + acquire fence); whoever drops the last one frees
//!   the core, on whichever thread that is.
//!
//! So the core lives exactly as long as some region holding a handle to it,
//! and a handle stored anywhere keeps it alive until that region goes.
//! Identity: two handles with the same core are the same channel/thread
//! (`same_handle`: `eq?`, `equal?`, dict hashing), whichever thread's copy
//! the program holds.
//!
//! A thread's result that nobody claims (the thread object went without a
//! `join`) is released when the OS thread's result packet is dropped
//! (`Unclaimed`); messages still queued on a channel whose core is freed
//! are released by `ChannelCore`'s `Drop`.

use crate::base::atomics::RcWord;
use crate::base::value::*;
use crate::heap::channel::{message_discard, ChannelCore, Message};
use crate::heap::object::{is_kind, kind_of};
use crate::region::{alloc_object, region_register_finalizer, set_finalize_hook, Region};
use std::sync::Mutex;

/// Handle object: `[hdr][forward slot][*const HandleCore][link]`. Word 1 is
/// left for `forward_to`, so a forwarded handle still names its core; word
/// 3 is the region's finalizer link (`region::FINAL_LINK_WORD`).
pub const HANDLE_CORE: i32 = 16;
const HANDLE_OBJECT_SIZE: usize = 32;
const CORE_WORD: usize = (HANDLE_CORE / 8) as usize;
const _: () = assert!(CORE_WORD < crate::region::FINAL_LINK_WORD);
const _: () = assert!(HANDLE_OBJECT_SIZE == (crate::region::FINAL_LINK_WORD + 1) * 8);

/// A spawned thread's result while nobody has claimed it: the message
/// (result region + value) the thread returns. If the thread is never
/// joined, its result region is released when the join handle's packet
/// goes (on the thread itself, or on whoever drops the last handle).
pub struct Unclaimed(pub Option<Message>);

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(msg) = self.0.take() {
            // SAFETY: an unclaimed message is owned by this wrapper alone.
            unsafe { message_discard(msg) };
        }
    }
}

/// The shared state of a spawned thread.
pub struct ThreadCore {
    /// The OS thread, until joined.
    pub(crate) handle: Mutex<Option<std::thread::JoinHandle<Unclaimed>>>,
    /// Serial shown by the printer.
    pub id: u64,
}

/// What a handle's core holds.
pub enum CoreBody {
    Channel(ChannelCore),
    Thread(ThreadCore),
}

/// The shared core of a channel or thread: the count of handle objects
/// naming it, and the state.
pub struct HandleCore {
    handles: RcWord,
    pub body: CoreBody,
}

/// Allocate a handle object of `kind` in `r`, naming `core` (whose count
/// already includes this handle), on `r`'s finalizer list.
///
/// # Safety
/// `r` is a live region of the calling thread; `core` is a live core.
unsafe fn alloc_handle(r: *mut Region, kind: ObjKind, core: *mut HandleCore) -> Value {
    set_finalize_hook(drop_handle);
    // SAFETY: caller contract; the object is fully written before it is
    // registered and published.
    unsafe {
        let p = alloc_object(r, kind, HANDLE_OBJECT_SIZE);
        p.add(1).write(0);
        p.add(CORE_WORD).write(core as u64);
        region_register_finalizer(r, p);
        p as Value
    }
}

/// A new handle of `kind` for a new core `body`, in `r`.
///
/// # Safety
/// `r` is a live region of the calling thread.
unsafe fn new_handle(r: *mut Region, kind: ObjKind, body: CoreBody) -> Value {
    let core = Box::into_raw(Box::new(HandleCore {
        handles: RcWord::new(1),
        body,
    }));
    // SAFETY: caller contract; the fresh core counts this handle.
    unsafe { alloc_handle(r, kind, core) }
}

/// A new channel object in `r` (capacity 0: unbuffered).
///
/// # Safety
/// `r` is a live region of the calling thread.
pub unsafe fn make_channel(r: *mut Region, capacity: usize) -> Value {
    // SAFETY: caller contract.
    unsafe {
        new_handle(
            r,
            ObjKind::Channel,
            CoreBody::Channel(ChannelCore::new(capacity)),
        )
    }
}

/// A new thread object in `r` for a started thread.
///
/// # Safety
/// `r` is a live region of the calling thread.
pub unsafe fn make_thread(r: *mut Region, core: ThreadCore) -> Value {
    // SAFETY: caller contract.
    unsafe { new_handle(r, ObjKind::Thread, CoreBody::Thread(core)) }
}

pub fn is_channel(v: Value) -> bool {
    is_kind(v, ObjKind::Channel)
}

pub fn is_thread(v: Value) -> bool {
    is_kind(v, ObjKind::Thread)
}

/// The core a handle object names (also after the handle was forwarded).
///
/// # Safety
/// `v` is a live handle object (or a forwarded one).
unsafe fn core_of(v: Value) -> *mut HandleCore {
    // SAFETY: caller contract: word 2 of a handle is its core.
    unsafe { *((v as *const u64).add(CORE_WORD)) as *mut HandleCore }
}

/// # Safety
/// `v` is a channel object; the returned reference is used only while `v`'s
/// region is alive (its handle keeps the core alive).
pub unsafe fn channel_core<'a>(v: Value) -> &'a ChannelCore {
    // SAFETY: caller contract.
    match unsafe { &(*core_of(v)).body } {
        CoreBody::Channel(c) => c,
        CoreBody::Thread(_) => crate::base::fatal::fatal(format_args!("channel_core of a thread")),
    }
}

/// # Safety
/// `v` is a thread object; as [`channel_core`] for the lifetime.
pub unsafe fn thread_core<'a>(v: Value) -> &'a ThreadCore {
    // SAFETY: caller contract.
    match unsafe { &(*core_of(v)).body } {
        CoreBody::Thread(t) => t,
        CoreBody::Channel(_) => crate::base::fatal::fatal(format_args!("thread_core of a channel")),
    }
}

/// The identity of a channel or thread value (its core's address), `None`
/// for every other value. Two handles are the same channel/thread iff
/// their identities are equal.
pub fn handle_identity(v: Value) -> Option<usize> {
    match kind_of(v) {
        Some(k) if k == ObjKind::Channel as u8 || k == ObjKind::Thread as u8 => {
            // SAFETY: a live handle object.
            Some(unsafe { core_of(v) } as usize)
        }
        _ => None,
    }
}

/// How many handle objects name `v`'s core (a snapshot, for tests and
/// diagnostics: another thread may change it right after).
///
/// # Safety
/// `v` is a live channel or thread object.
pub unsafe fn handle_count(v: Value) -> u64 {
    // SAFETY: caller contract: the handle keeps its core alive.
    unsafe { (*core_of(v)).handles.load_snapshot() }
}

/// Whether `a` and `b` (resolved) are handles of the same channel/thread.
pub fn same_handle(a: Value, b: Value) -> bool {
    match (handle_identity(a), handle_identity(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Metadata `trace` of channel and thread objects: no value slots.
///
/// # Safety
/// `obj` is a channel or thread object.
pub unsafe fn trace_handle(_obj: Value, _visit: &mut dyn FnMut(*mut Value)) {}

/// Metadata `clone` of channel and thread objects: a new handle in `dst`
/// naming the same core (one more count; the caller holds `obj`, so the
/// count is at least 1 and the relaxed increment is sound).
///
/// # Safety
/// `obj` is a live channel or thread object; `dst` a live region of the
/// calling thread.
pub unsafe fn clone_handle(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: caller contract.
    unsafe {
        let kind = if is_channel(obj) {
            ObjKind::Channel
        } else {
            ObjKind::Thread
        };
        let core = core_of(obj);
        (*core).handles.rc_increment(1);
        alloc_handle(dst, kind, core)
    }
}

/// The finalize hook: the region holding handle `obj` is being reclaimed;
/// drop its count, and free the core if it was the last.
///
/// # Safety
/// Called once per handle, by the reclaimer of its region.
unsafe fn drop_handle(obj: *mut u64) {
    // SAFETY: caller contract; the handle's count keeps the core alive until
    // this decrement, and the acquire fence of the last one orders every
    // holder's use before the free.
    unsafe {
        let core = core_of(obj as Value);
        if (*core).handles.rc_decrement(1) == 1 {
            #[cfg(loom)]
            loom_core_freed();
            drop(Box::from_raw(core));
        }
    }
}

#[cfg(loom)]
crate::base::atomics::runtime_static!(CORES_FREED: crate::base::atomics::StatCounter = crate::base::atomics::StatCounter::new(0); fn cores_freed);

#[cfg(loom)]
fn loom_core_freed() {
    cores_freed().stat_add(1);
}

/// Loom only: how many handle cores have been freed in this model execution.
#[cfg(loom)]
pub fn loom_cores_freed() -> u64 {
    cores_freed().stat_load()
}
