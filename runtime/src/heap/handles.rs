//! The Channel and Thread handle objects: `[hdr][*const core]` in the
//! immortal shared region, with their metadata (`trace_handle`,
//! `clone_handle`). The cores are `ChannelCore` (`channel.rs`) and
//! `ThreadCore`; what the handles *do* (send, recv, spawn, join) is
//! `control::thread`.

use crate::base::value::*;
use crate::heap::channel::{ChannelCore, Message};
use crate::heap::object::is_kind;
use crate::region::{alloc_object, with_shared_region, Region};
use std::sync::Mutex;

/// Channel object: `[hdr][*const ChannelCore]`, in the shared region.
pub const CHANNEL_CORE: i32 = 8;
/// Thread object: `[hdr][*const ThreadCore]`, in the shared region.
pub const THREAD_CORE: i32 = 8;
const HANDLE_OBJECT_SIZE: usize = 16;

/// The shared state of a spawned thread.
pub struct ThreadCore {
    /// The OS thread, until joined.
    pub(crate) handle: Mutex<Option<std::thread::JoinHandle<Message>>>,
    /// Serial shown by the printer.
    pub id: u64,
}

/// Allocate a handle object of `kind` in the shared region, pointing at a
/// leaked core (channel and thread cores live for the whole program: the
/// objects are immortal, so nothing could ever free them safely earlier).
pub(crate) fn alloc_handle(kind: ObjKind, core: *const u8) -> Value {
    // SAFETY: `with_shared_region` holds the shared region's allocation
    // lock; the object is fully written before it is published.
    with_shared_region(|r| unsafe {
        let p = alloc_object(r, kind, HANDLE_OBJECT_SIZE);
        p.add(1).write(core as u64);
        p as Value
    })
}

/// A new channel object (capacity 0: unbuffered).
pub fn make_channel(capacity: usize) -> Value {
    let core = Box::into_raw(Box::new(ChannelCore::new(capacity)));
    alloc_handle(ObjKind::Channel, core as *const u8)
}

pub fn is_channel(v: Value) -> bool {
    is_kind(v, ObjKind::Channel)
}

pub fn is_thread(v: Value) -> bool {
    is_kind(v, ObjKind::Thread)
}

/// # Safety
/// `v` is a channel object.
pub unsafe fn channel_core<'a>(v: Value) -> &'a ChannelCore {
    // SAFETY: caller contract; cores are leaked, so `'a` is fine.
    unsafe { &*(*((v as *const u64).add(1)) as *const ChannelCore) }
}

/// # Safety
/// `v` is a thread object.
pub unsafe fn thread_core<'a>(v: Value) -> &'a ThreadCore {
    // SAFETY: caller contract; cores are leaked.
    unsafe { &*(*((v as *const u64).add(1)) as *const ThreadCore) }
}

/// Metadata `trace` of channel and thread objects: no value slots.
///
/// # Safety
/// `obj` is a channel or thread object.
pub unsafe fn trace_handle(_obj: Value, _visit: &mut dyn FnMut(*mut Value)) {}

/// Metadata `clone` of channel and thread objects: they are immortal and
/// shared by identity (every holder must see the same channel), so the
/// "copy" is the object itself, like a symbol's. Transmigration never
/// reaches this (the shared region is outside every domain); it is here so
/// the kinds are not a "no metadata" abort.
///
/// # Safety
/// `obj` is a channel or thread object.
pub unsafe fn clone_handle(obj: Value, _dst: *mut Region) -> Value {
    obj
}
