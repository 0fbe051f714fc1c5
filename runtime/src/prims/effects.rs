//! `try`/`catch` and one-shot deep effect handlers on top of
//! `coroutine.rs`.
//!
//! - `(%try thunk)` runs the thunk on a coroutine. It returns the thunk's
//!   value, or — when an error is raised inside (by `error` or by the
//!   runtime: division by zero, bad index, `car` of `()`, stack overflow…) —
//!   an error object carrying the message; the coroutine is abandoned and
//!   every scope region it left open is exited. `(%caught?)` tells which of
//!   the two happened for the `%try` that returned last on this thread.
//! - `(%handle thunk eff1 use1 h1 …)` runs the thunk on a coroutine
//!   (`use`: how the clause uses its continuation, [`ResumeUse`]).
//!   `(%perform eff v)` inside it (at any depth, also inside nested `try`s
//!   and handlers of other effects) switches back to the nearest enclosing
//!   handle for `eff`, which calls its handler `(h v k)` on its own stack;
//!   `(%resume k x)` continues the suspended body, `perform` returning `x`,
//!   until the body finishes (the value of `resume`) or performs again (the
//!   handler is called again: deep handlers). A handler that returns
//!   without resuming abandons the body. A continuation resumes once.
//!   `(%resume-tail k x)` — a clause's resume in tail position — returns a
//!   resume request the handle's loop carries out instead (constant stack).
//!   Performs not handled by a coroutine are forwarded by its resumer.
//! - Values crossing a coroutine boundary (payloads, resume values,
//!   results) are made storable into the handle's result region with the
//!   store helper, so nothing points into a region of an abandoned stack.

use crate::base::raise::raise;
use crate::base::value::*;
use crate::control::coroutine::{self, Clause, Coro, Event, Kind, ResumeUse, State};
use crate::graph::barrier::store_into;
use crate::heap::error_obj::make_error;
use crate::heap::object::list_from_slice;
use crate::heap::types::{is_type, name_of, type_info, TYPE_FLAG_EFFECT};
use crate::prims::{expected, prim_fixed};
use crate::region::Region;
use std::cell::Cell;

thread_local! {
    static CAUGHT: Cell<bool> = const { Cell::new(false) };
}

fn effect_arg(prim: &str, e: Value) -> Result<Value, String> {
    // SAFETY: `type_info` is read only after the type check.
    if is_type(e) && unsafe { type_info(e) } & TYPE_FLAG_EFFECT != 0 {
        Ok(e)
    } else {
        Err(expected(prim, "an effect", e))
    }
}

/// What the body of a coroutine did when it last switched out.
enum Step {
    Done(Value),
    Raised(String, u32),
    Perform(Value, Value),
}

/// Continue `c` with `input`, release it when it finished or raised.
///
/// # Safety
/// `c` is a live coroutine of this thread, fresh or suspended.
unsafe fn step(c: *mut Coro, input: Value) -> Step {
    // SAFETY: caller contract.
    match unsafe { coroutine::switch_into(c, input) } {
        Event::Done(v) => {
            // SAFETY: finished: never resumed again.
            unsafe { coroutine::release(c) };
            Step::Done(v)
        }
        Event::Raised(msg, loc) => {
            // SAFETY: a coroutine that raised is abandoned.
            unsafe { coroutine::release(c) };
            Step::Raised(msg, loc)
        }
        Event::Perform(e, v) => Step::Perform(e, v),
        Event::None => {
            crate::base::fatal::fatal(format_args!("coroutine switched out without an event"))
        }
    }
}

/// `(%try thunk)`.
pub(crate) fn try_run(r: *mut Region, thunk: Value, loc: u32) -> Value {
    let c = coroutine::create(Kind::Try, thunk, r, loc);
    let mut input = NOTHING;
    loop {
        // SAFETY: `c` is live until `step` reports Done or Raised.
        match unsafe { step(c, input) } {
            Step::Done(v) => {
                CAUGHT.with(|f| f.set(false));
                // SAFETY: `r` is the live region of this call.
                return unsafe { store_into(r, v) };
            }
            Step::Raised(msg, _) => {
                CAUGHT.with(|f| f.set(true));
                // SAFETY: `r` is the live region of this call.
                return unsafe { make_error(r, &msg) };
            }
            // Not ours: forward to the enclosing handler.
            Step::Perform(e, v) => input = perform(e, v, loc),
        }
    }
}

/// `(%handle thunk eff1 use1 h1 …)` (`use`: a [`ResumeUse`] as an Int).
pub(crate) fn handle_run(r: *mut Region, args: &[Value], loc: u32) -> Result<Value, String> {
    if args.len() % 3 != 1 {
        return Err("handle: expected a body and effect/use/handler triples".into());
    }
    let mut clauses = Vec::new();
    for triple in args[1..].chunks_exact(3) {
        let resume_use = match triple[1] {
            u if u == make_int(0) => ResumeUse::Never,
            u if u == make_int(1) => ResumeUse::TailOnly,
            _ => ResumeUse::Any,
        };
        clauses.push(Clause {
            effect: effect_arg("handle", triple[0])?,
            handler: triple[2],
            resume_use,
        });
    }
    let c = coroutine::create(Kind::Handle(clauses), args[0], r, loc);
    ESCAPED.with(|e| e.set(None));
    // SAFETY: the fresh coroutine is live.
    let v = unsafe { run_handled(c, NOTHING, loc, true) };
    // SAFETY: `r` is live.
    Ok(unsafe { store_into(r, v) })
}

thread_local! {
    /// Set when the `%handle` that returned last on this thread returned
    /// the payload of a perform for clause number N that never resumes
    /// (`ResumeUse::Never`): the clause runs in the caller (`%escaped`).
    static ESCAPED: Cell<Option<usize>> = const { Cell::new(None) };
}

/// `(%escaped)`: the number of the clause whose payload the last `%handle`
/// returned (see [`ESCAPED`]), or `false` when it returned the body's or a
/// handler's value.
fn escaped() -> Value {
    match ESCAPED.with(|e| e.take()) {
        Some(n) => make_int(n as i64),
        None => FALSE,
    }
}

/// The value `%resume-tail` returns to the handle's loop (through the
/// clause's tail position): "continue the body with [`PENDING_RESUME`]".
/// A special immediate no program can make.
const RESUME_REQUEST: Value = 0x7FA;

thread_local! {
    /// The input of the resume a [`RESUME_REQUEST`] stands for (already
    /// stored into the handle's region).
    static PENDING_RESUME: Cell<Option<(*mut Coro, Value)>> = const { Cell::new(None) };
}

/// Run handled coroutine `c` from `input` until its body finishes (its
/// value) or a handler it called returns (the handler's value).
///
/// A handler that resumes in tail position (`%resume-tail`) returns a
/// [`RESUME_REQUEST`]; the body then continues from this loop, so a
/// generator that performs N times runs in constant stack. Per perform
/// the loop allocates nothing of its own when the clause uses its
/// continuation only that way: the argument list and the token are made
/// once.
///
/// `escape`: called by `%handle` itself (not by a `resume`), so a perform
/// for a clause that never resumes returns its payload for the clause to
/// run in the `handle`'s frame (see [`ESCAPED`]).
///
/// # Safety
/// `c` is a live, fresh or suspended handle coroutine of this thread.
unsafe fn run_handled(c: *mut Coro, mut input: Value, loc: u32, escape: bool) -> Value {
    // SAFETY: the record is read while live (before `step` releases it).
    let (id, region) = unsafe { ((*c).id, (*c).region) };
    // The handler's argument list and the reusable token, made on first use.
    let mut arg_list = NIL;
    let mut shared_token = NIL;
    loop {
        // SAFETY: caller contract / still suspended.
        match unsafe { step(c, input) } {
            Step::Done(v) => return v,
            Step::Raised(msg, at) => raise(msg, at),
            Step::Perform(e, v) => {
                // SAFETY: `c` is suspended, hence live.
                let clause = match unsafe { &(*c).kind } {
                    Kind::Handle(cl) => cl
                        .iter()
                        .position(|cl| cl.effect == e)
                        .map(|i| (i, cl[i].handler, cl[i].resume_use)),
                    Kind::Try => None,
                };
                let Some((clause_no, h, resume_use)) = clause else {
                    input = perform(e, v, loc);
                    continue;
                };
                // SAFETY: `c` is suspended; `region` is the handle's live region.
                let performs = unsafe { (*c).performs };
                // SAFETY: as above; `v` is a live value of this thread.
                let payload = unsafe { store_into(region, v) };
                let token = match resume_use {
                    ResumeUse::Never => {
                        // The clause never resumes: free the body now.
                        // SAFETY: `c` is suspended, not running, and never
                        // resumed again.
                        unsafe { coroutine::release(c) };
                        if escape {
                            ESCAPED.with(|x| x.set(Some(clause_no)));
                            return payload;
                        }
                        NOTHING
                    }
                    ResumeUse::TailOnly => {
                        if shared_token == NIL {
                            // SAFETY: `region` is live; the token holds
                            // immediates only.
                            shared_token = unsafe { continuation_token(region, id, performs) };
                        } else {
                            // SAFETY: `shared_token` is the pair made above;
                            // an immediate needs no store barrier.
                            unsafe {
                                crate::heap::object::set_cdr(
                                    shared_token,
                                    make_int(performs as i64),
                                )
                            };
                        }
                        shared_token
                    }
                    // SAFETY: `region` is live; the token holds immediates only.
                    ResumeUse::Any => unsafe { continuation_token(region, id, performs) },
                };
                if arg_list == NIL {
                    // SAFETY: `region` is live; a fresh two-element list.
                    arg_list = unsafe { list_from_slice(region, &[payload, token]) };
                } else {
                    // SAFETY: `arg_list` is the two-element list made above,
                    // in `region` like `payload` and `token`; the apply
                    // entry only reads it (a clause has two fixed
                    // parameters), so no other reference to it exists.
                    unsafe {
                        use crate::heap::object::{cdr, set_car};
                        set_car(arg_list, payload);
                        set_car(cdr(arg_list), token);
                    }
                }
                let result = crate::control::call::apply_closure(h, region, arg_list, loc);
                if result == RESUME_REQUEST {
                    match PENDING_RESUME.with(|p| p.take()) {
                        Some((c2, x)) if c2 == c => {
                            input = x;
                            continue;
                        }
                        // SAFETY: `%resume-tail` claimed `c2`, a live
                        // suspended coroutine of this thread.
                        Some((c2, x)) => return unsafe { run_handled(c2, x, loc, false) },
                        None => crate::base::fatal::fatal(format_args!(
                            "a resume request without a pending resume"
                        )),
                    }
                }
                // A handler that did not resume abandons the body.
                if resume_use != ResumeUse::Never {
                    if let Some(c2) = coroutine::lookup(id) {
                        // SAFETY: live record of this thread.
                        unsafe {
                            if (*c2).state == State::Suspended && (*c2).performs == performs {
                                coroutine::release(c2);
                            }
                        }
                    }
                }
                return result;
            }
        }
    }
}

/// Is there a handler for `e` in the running chain of coroutines?
fn handled(e: Value) -> bool {
    let mut c = coroutine::current();
    while !c.is_null() {
        // SAFETY: the chain holds running (entered) coroutines' records.
        unsafe {
            if let Kind::Handle(cl) = &(*c).kind {
                if cl.iter().any(|cl| cl.effect == e) {
                    return true;
                }
            }
            c = (*c).parent;
        }
    }
    false
}

/// `(%perform eff v)`: the value the handler resumes with.
pub fn perform(e: Value, v: Value, loc: u32) -> Value {
    if let Err(msg) = effect_arg("perform", e) {
        raise(msg, loc);
    }
    if !handled(e) {
        raise(format!("unhandled effect {}", name_of(e)), loc);
    }
    let c = coroutine::current();
    // SAFETY: `handled` found a chain, so `c` is the running coroutine.
    unsafe {
        (*c).performs += 1;
        coroutine::switch_out(c, Event::Perform(e, v));
        (*c).input
    }
}

const ALREADY_RESUMED: &str =
    "resume: the continuation was already resumed (continuations are one-shot)";
const NO_LONGER_VALID: &str =
    "resume: the continuation is no longer valid (its handle has finished)";
const OTHER_THREAD: &str = "resume: the continuation belongs to another thread";

/// Bits of a continuation token's first word that hold the coroutine id
/// (the thread tag sits above them).
const TOKEN_ID_BITS: u32 = 40;
/// The second word of a token once it was used.
const TOKEN_USED: i64 = -1;

thread_local! {
    /// This thread's tag in continuation tokens (unique per thread).
    static THREAD_TAG: u64 = next_thread_tag().seq_reserve(1) & ((1 << 20) - 1);
}

crate::base::atomics::runtime_static!(NEXT_THREAD_TAG: crate::base::atomics::SequenceCounter = crate::base::atomics::SequenceCounter::new(1); fn next_thread_tag);

/// The continuation `k` a handler receives for the perform number
/// `performs` of coroutine `id`: a pair `(thread-tag|id . performs)`. It
/// names the suspension, not just the coroutine, so a continuation saved
/// from an earlier perform (or used once already, when its `cdr` is
/// `TOKEN_USED`) is refused, and so is one resumed on another thread.
///
/// # Safety
/// `r` is a live region usable by the calling thread.
unsafe fn continuation_token(r: *mut Region, id: u64, performs: u64) -> Value {
    let tag = THREAD_TAG.with(|t| *t);
    let first = make_int(((tag << TOKEN_ID_BITS) | id) as i64);
    // SAFETY: caller contract; both fields are immediates.
    unsafe { crate::heap::object::alloc_pair(r, first, make_int(performs as i64)) }
}

/// The live coroutine continuation token `k` may resume, or why not. A
/// successful check marks the token used.
fn claim_continuation(k: Value) -> Result<*mut Coro, String> {
    use crate::heap::object::{car, cdr, is_pair, set_cdr};
    if !is_pair(k) {
        return Err(NO_LONGER_VALID.into());
    }
    // SAFETY: checked to be a pair.
    let (first, second) = unsafe { (car(k), cdr(k)) };
    if !is_int(first) || !is_int(second) {
        return Err(NO_LONGER_VALID.into());
    }
    let first = int_value(first) as u64;
    if first >> TOKEN_ID_BITS != THREAD_TAG.with(|t| *t) {
        return Err(OTHER_THREAD.into());
    }
    let used = int_value(second) == TOKEN_USED;
    let Some(c) = coroutine::lookup(first & ((1 << TOKEN_ID_BITS) - 1)) else {
        return Err(if used {
            ALREADY_RESUMED
        } else {
            NO_LONGER_VALID
        }
        .into());
    };
    // SAFETY: live record of this thread.
    unsafe {
        if used
            || (*c).state != State::Suspended
            || !matches!((*c).kind, Kind::Handle(_))
            || (*c).performs != int_value(second) as u64
        {
            return Err(ALREADY_RESUMED.into());
        }
        // SAFETY: `k` is a pair; an immediate needs no store barrier.
        set_cdr(k, make_int(TOKEN_USED));
    }
    Ok(c)
}

/// `(%resume k x)`: continue the body suspended in continuation `k`.
pub(crate) fn resume(r: *mut Region, k: Value, x: Value, loc: u32) -> Result<Value, String> {
    let c = claim_continuation(k)?;
    // SAFETY: live record of this thread.
    unsafe {
        let x = store_into((*c).region, x);
        (*c).state = State::Running;
        let v = run_handled(c, x, loc, false);
        Ok(store_into(r, v))
    }
}

/// `(%resume-tail k x)`: a clause's resume in tail position (the compiler
/// rewrites it so, expand/effects.rs). Checks `k` and stores `x` now (the
/// clause's regions end when it returns), then returns the
/// [`RESUME_REQUEST`] the handle's loop ([`run_handled`]) carries out.
pub(crate) fn resume_tail(k: Value, x: Value) -> Result<Value, String> {
    let c = claim_continuation(k)?;
    // SAFETY: live suspended record of this thread; its region is live.
    let x = unsafe {
        (*c).state = State::Running;
        store_into((*c).region, x)
    };
    PENDING_RESUME.with(|p| p.set(Some((c, x))));
    Ok(RESUME_REQUEST)
}

prim_fixed!(omni_prim_escaped() => |_| Ok(escaped()));
prim_fixed!(omni_prim_caught_p() => |_| Ok(make_bool(CAUGHT.with(|f| f.get()))));

/// `%try`: see [`try_run`].
///
/// # Safety
/// `region` must be live; the argument a valid value.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_try_run(region: *mut Region, thunk: Value, loc: u32) -> Value {
    try_run(region, crate::heap::object::resolve(thunk), loc)
}

/// `%handle`: see [`handle_run`].
///
/// # Safety
/// `region` must be live; `argv` holds `argc` values.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_handle_run(
    region: *mut Region,
    argc: usize,
    argv: *const Value,
    loc: u32,
) -> Value {
    // SAFETY: caller contract.
    let args = crate::heap::object::resolve_all(unsafe { crate::control::call::args(argc, argv) });
    match handle_run(region, &args, loc) {
        Ok(v) => v,
        Err(msg) => raise(msg, loc),
    }
}

/// `%perform`.
///
/// # Safety
/// The arguments are valid values.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_perform(
    _region: *mut Region,
    e: Value,
    v: Value,
    loc: u32,
) -> Value {
    perform(crate::heap::object::resolve(e), v, loc)
}

/// `%resume`.
///
/// # Safety
/// `region` must be live; the arguments valid values.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_resume(
    region: *mut Region,
    k: Value,
    x: Value,
    loc: u32,
) -> Value {
    match resume(region, crate::heap::object::resolve(k), x, loc) {
        Ok(v) => v,
        Err(msg) => raise(msg, loc),
    }
}

/// `%resume-tail`: see [`resume_tail`].
///
/// # Safety
/// The arguments are valid values.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_resume_tail(
    _region: *mut Region,
    k: Value,
    x: Value,
    loc: u32,
) -> Value {
    match resume_tail(crate::heap::object::resolve(k), x) {
        Ok(v) => v,
        Err(msg) => raise(msg, loc),
    }
}
