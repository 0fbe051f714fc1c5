//! Channel handoff benchmark (issue 8): the cost per message of the three
//! ways a value can cross threads (docs/REGION_THREADING_MODEL.md,
//! "Choosing B"), with P producers and P consumers passing small freshly
//! built lists (3 elements, like the stress test) through one buffered
//! channel:
//!
//! - **A, whole-region transfer**: the producer builds the list directly in
//!   a fresh region and hands that region over (no copy; requires the
//!   compiler to know the value is sent when it is built).
//! - **B, transmigrate on send** (chosen): the producer builds the list in
//!   its scope region, `handoff_out` copies it into a handoff region, the
//!   consumer adopts and merges it (`handoff_in`).
//! - **C, shared region with a lock**: producers allocate the list in one
//!   shared region under a mutex and send the bare pointer; nothing can be
//!   reclaimed per message (the region is shared), so its bytes grow with
//!   the message count.
//!
//! Reports ns per message (wall time / messages, median of 5 runs) and, for
//! C, the bytes the shared region retains. Run:
//! `cargo bench -p omni-runtime --bench channel_bench`

use omni_runtime::channel::{ChannelCore, Message};
use omni_runtime::object::{alloc_pair, car};
use omni_runtime::region::*;
use omni_runtime::thread::{handoff_in, handoff_out};
use omni_runtime::value::*;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const MESSAGES: usize = 200_000;
const RUNS: usize = 5;

#[derive(Clone, Copy, PartialEq)]
enum Option_ {
    A,
    B,
    C,
}

unsafe fn small_list(r: *mut Region, x: i64) -> Value {
    // SAFETY: caller contract: `r` is a live region of this thread.
    unsafe {
        alloc_pair(
            r,
            make_int(x),
            alloc_pair(r, make_int(x + 1), alloc_pair(r, make_int(x + 2), NIL)),
        )
    }
}

struct Shared(Mutex<usize>);

/// One run; returns (ns per message, bytes retained by option C's region).
fn run(opt: Option_, pairs: usize) -> (f64, usize) {
    let ch = Arc::new(ChannelCore::new(256));
    // Option C's shared region: created here, allocated in only under the lock.
    let shared_region = region_create() as usize;
    let lock = Arc::new(Shared(Mutex::new(shared_region)));
    let per = MESSAGES / pairs;
    let start = Instant::now();
    let mut producers = Vec::new();
    for p in 0..pairs {
        let (ch, lock) = (ch.clone(), lock.clone());
        producers.push(std::thread::spawn(move || {
            for i in 0..per {
                let x = (p * per + i) as i64;
                // SAFETY: every region used is this thread's, or the shared
                // one under its lock; messages follow the handoff protocol.
                let msg = unsafe {
                    match opt {
                        Option_::A => {
                            let r = region_create();
                            let v = small_list(r, x);
                            region_prepare_handoff(r);
                            Message {
                                region: r,
                                value: v,
                            }
                        }
                        Option_::B => {
                            let scope = region_create();
                            let v = small_list(scope, x);
                            let m = handoff_out(v);
                            region_exit(scope);
                            m
                        }
                        Option_::C => {
                            let g = lock.0.lock().unwrap();
                            let v = small_list(*g as *mut Region, x);
                            drop(g);
                            Message {
                                region: std::ptr::null_mut(),
                                value: v,
                            }
                        }
                    }
                };
                ch.send(msg).unwrap();
            }
        }));
    }
    let mut consumers = Vec::new();
    for _ in 0..pairs {
        let (ch, lock) = (ch.clone(), lock.clone());
        consumers.push(std::thread::spawn(move || {
            let mut sum = 0i64;
            let dst = region_create();
            while let Some(msg) = ch.recv() {
                // SAFETY: the channel handed the message over.
                unsafe {
                    let v = if msg.region.is_null() {
                        let _g = lock.0.lock().unwrap();
                        msg.value
                    } else {
                        handoff_in(msg, dst)
                    };
                    sum += int_value(car(v));
                }
            }
            // SAFETY: our own region.
            unsafe { region_exit(dst) };
            sum
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    ch.close();
    let total: i64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    let elapsed = start.elapsed();
    let n = (per * pairs) as i64;
    assert_eq!(total, n * (n - 1) / 2, "nothing lost or duplicated");
    // SAFETY: every thread is done; the region is live and ours.
    let retained = unsafe { region_bytes(shared_region as *mut Region) };
    // SAFETY: created above, exited once.
    unsafe { region_exit(shared_region as *mut Region) };
    (elapsed.as_nanos() as f64 / n as f64, retained)
}

fn main() {
    println!("option  pairs  ns/message  retained-by-shared-region");
    for pairs in [1, 4] {
        for (name, opt) in [("A", Option_::A), ("B", Option_::B), ("C", Option_::C)] {
            let mut samples: Vec<(f64, usize)> = (0..RUNS).map(|_| run(opt, pairs)).collect();
            samples.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (ns, bytes) = samples[RUNS / 2];
            println!("{name:>6}  {pairs:>5}  {ns:>10.0}  {bytes:>10}");
        }
    }
}
