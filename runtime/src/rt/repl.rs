//! The REPL's runner: one persistent program thread that runs each form's
//! compiled module (`omni_entry`) on a coroutine, so that a runtime error
//! unwinds back to the prompt instead of ending the process.
//!
//! Every form of a session runs on the same thread, so the global state
//! (the session's globals array, registered as the state region's roots by
//! each module's start-up code) is owned by one program thread as in a
//! file run. A form runs on a native coroutine (`coroutine::create_native`)
//! with a program-sized stack: an error raised and not caught by the
//! program switches out with its report (message and call stack), and
//! releasing the coroutine exits the scope regions the form left open.
//! An uncaught error in a thread the form spawned ends only that thread
//! (`control::thread::contain_thread_errors`): the session goes on.
//!
//! Ctrl-C: [`install_interrupt_handler`] makes SIGINT store an impossible
//! stack limit into the program thread's limit word, so the next function
//! prologue takes the stack-overflow path, which raises "interrupted"
//! instead ([`take_interrupt`]). A loop that makes no calls is not
//! interrupted.

use crate::base::stack::{omni_rt_stack_limit_cell, stack_size};
use crate::base::value::NOTHING;
use crate::control::coroutine::{self, Event};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};

/// The program thread's stack-limit word (null: no session runs).
static LIMIT_CELL: AtomicPtr<usize> = AtomicPtr::new(std::ptr::null_mut());
/// Set by SIGINT while a form runs; read by the stack-overflow path.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// A form is running (SIGINT only interrupts then).
static RUNNING: AtomicBool = AtomicBool::new(false);

/// A session's program thread.
pub struct Runner {
    jobs: Sender<extern "C" fn() -> u64>,
    results: Receiver<Result<(), String>>,
}

impl Runner {
    /// Start the session's program thread.
    pub fn start() -> Runner {
        let (jobs, job_rx) = channel::<extern "C" fn() -> u64>();
        let (result_tx, results) = channel();
        crate::base::stats::start_program();
        crate::control::backtrace::keep_all_code_tables();
        crate::control::thread::contain_thread_errors();
        std::thread::Builder::new()
            .name("omni-main".into())
            .spawn(move || {
                LIMIT_CELL.store(omni_rt_stack_limit_cell(), Ordering::Release);
                while let Ok(entry) = job_rx.recv() {
                    if result_tx.send(run_one(entry)).is_err() {
                        break;
                    }
                }
            })
            .expect("omni: cannot start the program thread");
        Runner { jobs, results }
    }

    /// Run one module's entry to its end. `Err` holds the report of the
    /// runtime error that ended it (`error: ...` and the call stack).
    pub fn run(&self, entry: extern "C" fn() -> u64) -> Result<(), String> {
        if self.jobs.send(entry).is_err() {
            return Err("error: the program thread has ended\n".into());
        }
        self.results
            .recv()
            .unwrap_or_else(|_| Err("error: the program thread has ended\n".into()))
    }
}

/// On the program thread: run `entry` on a fresh coroutine and release it.
fn run_one(entry: extern "C" fn() -> u64) -> Result<(), String> {
    INTERRUPTED.store(false, Ordering::Release);
    let c = coroutine::create_native(entry, stack_size());
    RUNNING.store(true, Ordering::Release);
    // SAFETY: `c` is the fresh coroutine of this thread.
    let event = unsafe { coroutine::switch_into(c, NOTHING) };
    RUNNING.store(false, Ordering::Release);
    // SAFETY: `c` finished (it ran to its end or raised) and is not running;
    // releasing it exits the scope regions the form left open.
    unsafe { coroutine::release(c) };
    crate::base::stdout::flush_stdout();
    // The thread lives as long as the session: its statistics reach the
    // process totals after each form, not at a thread exit.
    crate::base::stats::flush_thread();
    match event {
        Event::Raised(report, _) => Err(report),
        _ => Ok(()),
    }
}

/// Called on the stack-overflow path: whether it was an interrupt (Ctrl-C)
/// rather than a real overflow; clears the request.
pub fn take_interrupt() -> bool {
    INTERRUPTED.swap(false, Ordering::AcqRel)
}

extern "C" fn on_sigint(_sig: i32) {
    if !RUNNING.load(Ordering::Acquire) {
        return;
    }
    let cell = LIMIT_CELL.load(Ordering::Acquire);
    if cell.is_null() {
        return;
    }
    INTERRUPTED.store(true, Ordering::Release);
    // SAFETY: `cell` is the program thread's stack-limit word, which lives
    // as long as that thread (the whole session). A word-sized atomic store
    // is async-signal-safe; the prologue that reads it sees either value.
    unsafe { std::sync::atomic::AtomicUsize::from_ptr(cell).store(usize::MAX, Ordering::Release) };
}

extern "C" {
    fn signal(signum: i32, handler: usize) -> usize;
}

const SIGINT: i32 = 2;

/// Make Ctrl-C (SIGINT) interrupt the running form instead of ending the
/// process (the line editor reads Ctrl-C itself while it waits for input).
pub fn install_interrupt_handler() {
    // SAFETY: `on_sigint` only does atomic loads and stores.
    unsafe { signal(SIGINT, on_sigint as extern "C" fn(i32) as usize) };
}
