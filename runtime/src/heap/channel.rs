//! Channels: the one way values cross between running threads
//! (docs/REGION_THREADING_MODEL.md, "Channels").
//!
//! A message is a *handoff region* plus a value in it: `send` copies the
//! value's mortal part into a fresh region of the sender
//! (`transmigrate_for_handoff`), turns that region's scope into one external
//! reference (`region_prepare_handoff`) and queues both; `recv` dequeues,
//! makes the receiver the region's owner (`region_adopt`), merges the region
//! into the receiver's result region (O(chunks), no copy) and drops the
//! reference. At every moment exactly one thread owns the message region:
//! the sender until the enqueue, the channel (nobody) while queued, the
//! receiver from the dequeue on.
//!
//! The queue is a mutex-protected deque; the mutex is the synchronisation
//! edge that orders the sender's writes into the message region before the
//! receiver's reads (the handoff protocol is model-checked by
//! `runtime/tests/loom_channel.rs`). Buffered channels wait on two
//! condition variables (`readable`, `writable`), each signalled once per
//! message. Capacity 0 is a rendezvous: a send returns once a receiver has
//! taken *its* message; there every waiting thread waits on a condition
//! variable of its own, so a wake-up goes to the one thread it concerns: a
//! waiting receiver is handed the next message directly, and a queued
//! sender is woken by the receiver of its message.
//! `close` wakes everybody; sending to a closed channel is an error, and
//! `recv` on a closed, drained channel returns `None` (`nothing`).

use crate::base::value::Value;
use crate::region::{region_adopt, region_release, Region};
use std::collections::VecDeque;

#[cfg(loom)]
use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
use pthread::{Condvar, Mutex, MutexGuard};

/// A mutex and a condition variable built directly on the POSIX ones, so
/// that valgrind's thread checkers (helgrind, drd), which model
/// `pthread_mutex_*`/`pthread_cond_*` but not the futex-based `std::sync`
/// types, see the channel's happens-before edges
/// (docs/REGION_THREADING_MODEL.md, "Tooling"). The API mirrors the
/// subset of `std::sync` the channel uses (the loom build uses loom's).
#[cfg(not(loom))]
mod pthread {
    use std::cell::UnsafeCell;
    use std::ops::{Deref, DerefMut};

    // glibc x86-64: pthread_mutex_t is 40 bytes, pthread_cond_t 48; the
    // all-zero pattern is PTHREAD_{MUTEX,COND}_INITIALIZER.
    #[repr(C, align(8))]
    struct RawMutex(UnsafeCell<[u64; 5]>);
    #[repr(C, align(8))]
    struct RawCond(UnsafeCell<[u64; 6]>);

    extern "C" {
        fn pthread_mutex_lock(m: *mut u64) -> i32;
        fn pthread_mutex_unlock(m: *mut u64) -> i32;
        fn pthread_cond_wait(c: *mut u64, m: *mut u64) -> i32;
        fn pthread_cond_signal(c: *mut u64) -> i32;
        fn pthread_cond_broadcast(c: *mut u64) -> i32;
    }

    /// A POSIX mutex protecting a `T`. Never moved after first use (channel
    /// cores are boxed before any thread sees them).
    pub struct Mutex<T> {
        raw: RawMutex,
        data: UnsafeCell<T>,
    }

    // SAFETY: access to `data` is serialised by the POSIX mutex.
    unsafe impl<T: Send> Sync for Mutex<T> {}
    // SAFETY: as above; the raw mutex is plain memory until used.
    unsafe impl<T: Send> Send for Mutex<T> {}

    pub struct MutexGuard<'a, T> {
        m: &'a Mutex<T>,
    }

    /// Never produced (POSIX mutexes are not poisoned); mirrors
    /// `std::sync::PoisonError` so callers read the same as with std.
    pub struct Poisoned<G>(G);

    impl<G> Poisoned<G> {
        pub fn into_inner(self) -> G {
            self.0
        }
    }

    impl<T> Mutex<T> {
        pub fn new(v: T) -> Self {
            Mutex {
                raw: RawMutex(UnsafeCell::new([0; 5])),
                data: UnsafeCell::new(v),
            }
        }

        /// Lock; the `Result` mirrors `std::sync::Mutex::lock` (never `Err`).
        pub fn lock(&self) -> Result<MutexGuard<'_, T>, Poisoned<MutexGuard<'_, T>>> {
            // SAFETY: an initialised (zeroed) mutex at a stable address.
            unsafe { pthread_mutex_lock(self.raw.0.get() as *mut u64) };
            Ok(MutexGuard { m: self })
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock.
            unsafe { &*self.m.data.get() }
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard holds the lock exclusively.
            unsafe { &mut *self.m.data.get() }
        }
    }

    impl<T> Drop for MutexGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: this guard locked the mutex.
            unsafe { pthread_mutex_unlock(self.m.raw.0.get() as *mut u64) };
        }
    }

    /// A POSIX condition variable.
    pub struct Condvar(RawCond);

    // SAFETY: POSIX condition variables are made for sharing between threads.
    unsafe impl Sync for Condvar {}
    // SAFETY: plain memory until first use.
    unsafe impl Send for Condvar {}

    impl Condvar {
        pub fn new() -> Self {
            Condvar(RawCond(UnsafeCell::new([0; 6])))
        }

        /// Atomically unlock and wait, relock before returning (spurious
        /// wake-ups possible: callers loop). Mirrors `std::sync::Condvar::wait`.
        pub fn wait<'a, T>(
            &self,
            g: MutexGuard<'a, T>,
        ) -> Result<MutexGuard<'a, T>, Poisoned<MutexGuard<'a, T>>> {
            // SAFETY: `g` holds the mutex; both objects are initialised and
            // at stable addresses.
            unsafe { pthread_cond_wait(self.0 .0.get() as *mut u64, g.m.raw.0.get() as *mut u64) };
            Ok(g)
        }

        pub fn notify_one(&self) {
            // SAFETY: an initialised condition variable.
            unsafe { pthread_cond_signal(self.0 .0.get() as *mut u64) };
        }

        pub fn notify_all(&self) {
            // SAFETY: an initialised condition variable.
            unsafe { pthread_cond_broadcast(self.0 .0.get() as *mut u64) };
        }
    }
}

/// One queued message: the handoff region (whose one external reference the
/// message holds) and the value, which lives in it or in an immortal region.
#[derive(Debug)]
pub struct Message {
    pub region: *mut Region,
    pub value: Value,
}

// SAFETY: a message is owned by exactly one party at a time (sender,
// channel, receiver) and the region it names is touched by nobody while it
// is queued; the channel mutex orders the handoff (module doc).
unsafe impl Send for Message {}

/// Drop a message that will never be received: the calling thread adopts
/// its region and releases the message's reference (reclaiming it).
///
/// # Safety
/// The caller owns `msg` (it was dequeued, given back, or never queued).
pub unsafe fn message_discard(msg: Message) {
    // SAFETY: caller contract: the message's one reference is ours, and
    // whatever handed it to us synchronised us with its previous owner.
    unsafe {
        region_adopt(msg.region);
        region_release(msg.region);
    }
}

/// Sending failed because the channel is closed; the message comes back so
/// the sender can release its region.
#[derive(Debug)]
pub struct Closed(pub Message);

/// A queued message, and for a rendezvous send the sender's own condition
/// variable, signalled when a receiver takes the message.
struct Queued {
    msg: Message,
    sender: *const Condvar,
}

/// A receiver waiting for a message: a sender that finds it puts its
/// message straight into `msg` and signals `wake`. Lives on the receiver's
/// stack while it is registered in `State::receivers`.
struct Waiter {
    msg: Option<Message>,
    wake: Condvar,
}

struct State {
    queue: VecDeque<Queued>,
    /// Unbuffered: receivers waiting, oldest first (only while `queue` is
    /// empty: a send with a receiver waiting hands its message over at
    /// once).
    receivers: VecDeque<*mut Waiter>,
    /// 0: rendezvous.
    capacity: usize,
    closed: bool,
    /// Messages ever sent / ever taken: a rendezvous sender waits until
    /// `taken` passes its ticket.
    sent: u64,
    taken: u64,
}

// SAFETY: the raw pointers name a waiting sender's condition variable or a
// waiting receiver's `Waiter`, each on the stack of a thread blocked in
// `send`/`recv` until its entry is removed, and are only used under the
// channel's mutex.
unsafe impl Send for State {}

/// The shared state of one channel.
pub struct ChannelCore {
    state: Mutex<State>,
    /// Buffered: signalled when a message is queued or the channel closes.
    readable: Condvar,
    /// Buffered: signalled when a message is taken (one sender may use the
    /// room) or the channel closes.
    writable: Condvar,
}

impl ChannelCore {
    /// A channel holding up to `capacity` undelivered messages (0:
    /// unbuffered, every send waits for its receiver).
    pub fn new(capacity: usize) -> Self {
        ChannelCore {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                receivers: VecDeque::new(),
                capacity,
                closed: false,
                sent: 0,
                taken: 0,
            }),
            readable: Condvar::new(),
            writable: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Send `msg`. Buffered: waits for room, queues it. Unbuffered: a
    /// receiver already waiting gets it at once (the rendezvous happens
    /// there, as in CSP and Go: the sender need not wait for the receiver
    /// to run); otherwise it is queued and the sender waits until a
    /// receiver has taken it, woken by that receiver alone. Fails
    /// (returning the message) if the channel is closed before the message
    /// could be sent.
    ///
    /// Before, every `recv` woke every waiting sender, and a rendezvous
    /// sender always slept until its receiver ran: 8 producers and 8
    /// consumers passing 10^6 messages took 22.1 s through `(chan)` (6.3 s
    /// now) against 0.74 s through `(chan 256)`
    /// (docs/REGION_THREADING_MODEL.md, §3).
    pub fn send(&self, msg: Message) -> Result<(), Closed> {
        let mut s = self.lock();
        if s.capacity > 0 {
            while !s.closed && s.queue.len() >= s.capacity {
                s = self.writable.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            if s.closed {
                return Err(Closed(msg));
            }
            s.sent += 1;
            s.queue.push_back(Queued {
                msg,
                sender: std::ptr::null(),
            });
            self.readable.notify_one();
            return Ok(());
        }
        if s.closed {
            return Err(Closed(msg));
        }
        s.sent += 1;
        let ticket = s.sent;
        if let Some(w) = s.receivers.pop_front() {
            s.taken += 1;
            // SAFETY: a registered waiter is alive: its receiver stays in
            // `recv` until its message is set or it removed the entry
            // itself, both under the mutex we hold.
            unsafe {
                (*w).msg = Some(msg);
                (*w).wake.notify_one();
            }
            return Ok(());
        }
        // No receiver waits: queue the message and wait until it (FIFO:
        // the ticket-th) is taken. A close does not end the wait: the
        // message stays receivable (drained) after a close.
        let wake = Condvar::new();
        s.queue.push_back(Queued { msg, sender: &wake });
        while s.taken < ticket {
            s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        Ok(())
    }

    /// Take the oldest message, waiting for one; `None` once the channel is
    /// closed and drained.
    pub fn recv(&self) -> Option<Message> {
        let mut s = self.lock();
        loop {
            if let Some(q) = s.queue.pop_front() {
                s.taken += 1;
                if q.sender.is_null() {
                    // One buffered sender waiting for room may use it.
                    self.writable.notify_one();
                } else {
                    // SAFETY: a rendezvous sender stays in `send` until
                    // `taken` passes its ticket, which only happened now,
                    // under the mutex we hold.
                    unsafe { (*q.sender).notify_one() };
                }
                return Some(q.msg);
            }
            if s.closed {
                return None;
            }
            if s.capacity > 0 {
                s = self.readable.wait(s).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Unbuffered and nothing queued: wait to be handed a message
            // (the queue stays empty while a receiver waits).
            let mut waiter = Waiter {
                msg: None,
                wake: Condvar::new(),
            };
            let w: *mut Waiter = &mut waiter;
            s.receivers.push_back(w);
            loop {
                // SAFETY: `waiter` outlives the wait; senders touch it only
                // under the mutex, which the wait releases and retakes.
                s = unsafe { (*w).wake.wait(s) }.unwrap_or_else(|e| e.into_inner());
                // SAFETY: as above; we hold the mutex again.
                if let Some(m) = unsafe { (*w).msg.take() } {
                    return Some(m);
                }
                if s.closed {
                    s.receivers.retain(|&x| x != w);
                    return None;
                }
            }
        }
    }

    /// Close the channel (idempotent): later sends fail, receivers drain
    /// what is queued and then get `None`.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        // Signalled under the lock (drd checks that the signaller holds it).
        self.readable.notify_all();
        self.writable.notify_all();
        for &w in &s.receivers {
            // SAFETY: as in `send`: a registered waiter is alive.
            unsafe { (*w).wake.notify_one() };
        }
        drop(s);
    }

    /// Whether the channel has been closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Take every queued message (the channel's last handle is going).
    pub fn drain(&self) -> Vec<Message> {
        self.lock().queue.drain(..).map(|q| q.msg).collect()
    }

    /// Messages queued and not yet received.
    pub fn pending(&self) -> usize {
        self.lock().queue.len()
    }
}

impl Drop for ChannelCore {
    fn drop(&mut self) {
        // Messages still queued when the last handle went: nobody can
        // receive them any more; release their regions.
        for msg in self.drain() {
            // SAFETY: a dequeued message is owned by us alone.
            unsafe { message_discard(msg) };
        }
    }
}
