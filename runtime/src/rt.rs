//! Program start-up and the support functions generated code calls:
//! running the entry on a big-stack thread with the stack-overflow limit,
//! buffered stdout, allocation helpers, argument-list unpacking for
//! `apply`, and the call-site errors (not a function, unbound, arity).
//!
//! Stack overflow: every generated prologue compares its stack pointer with
//! the calling thread's *stack limit* and calls `omni_rt_stack_overflow`
//! when below it. The limit is a per-thread word (a thread-local cell whose
//! address generated code keeps in Cranelift's pinned register, r15 on
//! x86-64: every SysV trampoline into generated code loads it from
//! [`omni_rt_stack_limit_cell`]), so each program thread, spawned threads
//! and coroutine stacks included, is checked against its own stack
//! (docs/REGION_THREADING_MODEL.md). The limit leaves [`STACK_MARGIN`] bytes
//! above the real end of the stack for runtime code (primitives, printing,
//! the error path). While it is 0 (no program code running on the thread)
//! the check never fires.

use crate::dict::{alloc_dict, dict_set};
use crate::error::raise;
use crate::object::*;
use crate::print::display_string;
use crate::region::Region;
use crate::value::*;
use std::cell::Cell;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

thread_local! {
    /// Lowest stack address generated code running on this thread may use;
    /// 0 disables the check.
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// Address of the calling thread's stack-limit word (stable for the
/// thread's lifetime). Generated trampolines put it in the pinned register;
/// every prologue loads the limit through it.
#[no_mangle]
pub extern "C" fn omni_rt_stack_limit_cell() -> *mut usize {
    STACK_LIMIT.with(|c| c.as_ptr())
}

/// The calling thread's stack limit (0: unchecked).
pub fn stack_limit() -> usize {
    STACK_LIMIT.with(|c| c.get())
}

/// Set the calling thread's stack limit (0 disables the check).
pub fn set_stack_limit(limit: usize) {
    STACK_LIMIT.with(|c| c.set(limit));
}

/// Default stack of the program thread (env `OMNI_STACK_SIZE` overrides).
pub const DEFAULT_STACK_SIZE: usize = 256 << 20;
/// Stack kept free below the limit for runtime code and the error path.
pub const STACK_MARGIN: usize = 256 << 10;

// ------------------------------------------------------------------ stdout

/// Flush threshold: output reaches the OS in chunks of this size.
const STDOUT_CHUNK: usize = 64 << 10;

/// The program's one stdout buffer. Callers format first and append under
/// the lock, so no error is ever raised while it is held.
static STDOUT_BUF: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Append text to buffered stdout.
pub fn write_stdout(s: &str) {
    let mut buf = STDOUT_BUF.lock().unwrap_or_else(|e| e.into_inner());
    buf.extend_from_slice(s.as_bytes());
    if buf.len() >= STDOUT_CHUNK {
        let mut out = std::io::stdout().lock();
        // Write errors (closed pipe) are ignored: output is best effort.
        let _ = out.write_all(&buf);
        let _ = out.flush();
        buf.clear();
    }
}

/// Push buffered stdout to the OS (at exit, before stderr output, before
/// reading stdin).
pub fn flush_stdout() {
    let mut buf = STDOUT_BUF.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&buf);
    let _ = out.flush();
    buf.clear();
}

// ------------------------------------------------------------------ start-up

static ARGS: OnceLock<Vec<String>> = OnceLock::new();

/// The program's command-line arguments as recorded by `omni_rt_main`
/// (empty under the JIT unless set with [`set_command_line_args`]).
pub fn command_line_args() -> &'static [String] {
    ARGS.get().map(|v| v.as_slice()).unwrap_or(&[])
}

/// Record the command-line arguments (first call wins).
pub fn set_command_line_args(args: Vec<String>) {
    let _ = ARGS.set(args);
}

/// Stack size of program threads (the main one and spawned ones).
pub fn stack_size() -> usize {
    std::env::var("OMNI_STACK_SIZE")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n >= 4 * STACK_MARGIN)
        .unwrap_or(DEFAULT_STACK_SIZE)
}

/// An address inside the current stack frame.
#[inline(never)]
pub fn current_stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Run the program entry on a thread with a big stack and the overflow
/// check armed; returns the exit status (0: errors exit the process with 1
/// from `raise`).
pub fn run_jit(entry: extern "C" fn() -> u64) -> i32 {
    let size = stack_size();
    let handle = std::thread::Builder::new()
        .name("omni-main".into())
        .stack_size(size)
        .spawn(move || {
            // The thread's stack spans at most `size` bytes below a point
            // slightly above here, so `sp - size` is at or below its low end
            // and the margin is measured from there.
            arm_stack_limit(size);
            let result = entry();
            set_stack_limit(0);
            result
        })
        .expect("omni: cannot start the program thread");
    let _ = handle.join();
    crate::error::run_exit_hooks();
    0
}

/// Arm the calling thread's stack limit for a stack of `size` bytes whose
/// top lies slightly above the caller's frame: the stack spans at most
/// `size` bytes below here, so `sp - size` is at or below its low end and
/// the margin is measured from there.
pub fn arm_stack_limit(size: usize) {
    let sp = current_stack_pointer();
    set_stack_limit(sp.saturating_sub(size) + STACK_MARGIN);
}

/// `main` of a native executable: record argv, run `entry`, exit status.
///
/// # Safety
/// `argv` must hold `argc` NUL-terminated strings (as from C `main`).
#[no_mangle]
pub unsafe extern "C" fn omni_rt_main(
    argc: i32,
    argv: *const *const u8,
    entry: extern "C" fn() -> u64,
) -> i32 {
    let mut args = Vec::with_capacity(argc.max(0) as usize);
    for i in 0..argc.max(0) as usize {
        // SAFETY: caller contract: argv[i] is a C string.
        let c = unsafe { std::ffi::CStr::from_ptr(*argv.add(i) as *const std::ffi::c_char) };
        args.push(c.to_string_lossy().into_owned());
    }
    set_command_line_args(args);
    run_jit(entry)
}

/// Called by a prologue whose stack pointer passed the thread's stack
/// limit. The limit is cleared first so code run on the way out cannot
/// re-trigger it.
#[no_mangle]
pub extern "C" fn omni_rt_stack_overflow(loc: u32) -> ! {
    set_stack_limit(0);
    raise("stack overflow".to_owned(), loc)
}

// ------------------------------------------------------- allocation support

/// # Safety
/// `region` must be a live region usable by the calling thread.
#[no_mangle]
pub unsafe extern "C" fn omni_alloc_cons(region: *mut Region, car: Value, cdr: Value) -> Value {
    // SAFETY: forwarded contract.
    unsafe { alloc_pair(region, car, cdr) }
}

/// # Safety
/// `region` must be a live region usable by the calling thread.
#[no_mangle]
pub unsafe extern "C" fn omni_alloc_box(region: *mut Region, v: Value) -> Value {
    // SAFETY: forwarded contract.
    unsafe { alloc_box(region, v) }
}

/// A closure whose free slots are zeroed; generated code stores them.
///
/// # Safety
/// `region` must be a live region usable by the calling thread.
#[no_mangle]
pub unsafe extern "C" fn omni_alloc_closure(
    region: *mut Region,
    code: usize,
    apply: usize,
    info: u64,
    name: Value,
) -> Value {
    // SAFETY: forwarded contract.
    unsafe { alloc_closure(region, code, apply, info, name) }
}

/// Argument vector as a slice (empty when argc is 0, whatever argv is).
///
/// # Safety
/// `argv` must point at `argc` values when `argc > 0`.
pub unsafe fn args<'a>(argc: usize, argv: *const Value) -> &'a [Value] {
    if argc == 0 {
        &[]
    } else {
        // SAFETY: caller contract.
        unsafe { std::slice::from_raw_parts(argv, argc) }
    }
}

/// # Safety
/// `region` live; `argv` holds `argc` values.
#[no_mangle]
pub unsafe extern "C" fn omni_alloc_array(
    region: *mut Region,
    argc: usize,
    argv: *const Value,
) -> Value {
    // SAFETY: forwarded contract.
    unsafe { array_from_slice(region, args(argc, argv)) }
}

/// A dict from alternating keys and values.
///
/// # Safety
/// `region` live; `argv` holds `argc` values.
#[no_mangle]
pub unsafe extern "C" fn omni_alloc_dict(
    region: *mut Region,
    argc: usize,
    argv: *const Value,
    loc: u32,
) -> Value {
    if !argc.is_multiple_of(2) {
        raise(
            format!("dict: expected an even number of arguments, got {argc}"),
            loc,
        );
    }
    // SAFETY: forwarded contract.
    unsafe {
        let d = alloc_dict(region, argc / 2);
        for kv in args(argc, argv).chunks_exact(2) {
            dict_set(d, kv[0], kv[1]);
        }
        d
    }
}

/// # Safety
/// `region` must be a live region usable by the calling thread.
#[no_mangle]
pub unsafe extern "C" fn omni_make_float(region: *mut Region, bits: u64) -> Value {
    // SAFETY: forwarded contract.
    unsafe { make_float(region, f64::from_bits(bits)) }
}

/// # Safety
/// `region` live; `ptr` holds `len` bytes of UTF-8 (invalid bytes replaced).
#[no_mangle]
pub unsafe extern "C" fn omni_make_string(
    region: *mut Region,
    ptr: *const u8,
    len: usize,
) -> Value {
    // SAFETY: forwarded contract.
    unsafe {
        let bytes = if len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(ptr, len)
        };
        make_string(region, &String::from_utf8_lossy(bytes))
    }
}

/// # Safety
/// `ptr` holds `len` bytes of UTF-8 (invalid bytes replaced).
#[no_mangle]
pub unsafe extern "C" fn omni_intern(ptr: *const u8, len: usize) -> Value {
    // SAFETY: forwarded contract.
    let bytes = if len == 0 {
        &[][..]
    } else {
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    intern(&String::from_utf8_lossy(bytes))
}

/// # Safety
/// `region` live; `argv` holds `argc` values.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_list_from_argv(
    region: *mut Region,
    argc: usize,
    argv: *const Value,
) -> Value {
    // SAFETY: forwarded contract.
    unsafe { list_from_slice(region, args(argc, argv)) }
}

// ------------------------------------------------------------ apply support

/// "wrong number of arguments to f: expected 2, got 3" (at least N for a
/// closure with a rest parameter).
pub fn arity_message(closure: Value, got: u64) -> String {
    // SAFETY: only read when `closure` is a closure.
    let (name, info) = if is_closure(closure) {
        unsafe { (closure_display_name(closure), closure_info_word(closure)) }
    } else {
        (display_string(closure), 0)
    };
    let arity = info & 0xFFFF;
    let rest = (info >> 16) & CLOSURE_FLAG_REST != 0;
    let expected = if rest {
        format!("at least {arity}")
    } else {
        arity.to_string()
    };
    format!("wrong number of arguments to {name}: expected {expected}, got {got}")
}

/// Unpack `list` for the closure's `code` entry: the fixed arguments, then
/// (with a rest parameter) the remaining tail of `list`, shared, not copied.
/// Returns the message on a count mismatch or an improper list.
///
/// # Safety
/// `closure` must be a closure; `out` must have room for arity (+1) values.
pub unsafe fn apply_unpack(closure: Value, list: Value, out: *mut Value) -> Result<(), String> {
    let (closure, list) = (resolve(closure), resolve(list));
    // SAFETY: `closure` is a closure; writes stay below arity(+1) slots.
    unsafe {
        let info = closure_info_word(closure);
        let arity = (info & 0xFFFF) as usize;
        let rest = (info >> 16) & CLOSURE_FLAG_REST != 0;
        let mut cur = list;
        for i in 0..arity {
            if !is_pair(cur) {
                let got = list_to_vec(list).map(|v| v.len()).unwrap_or(i);
                return Err(arity_message(closure, got as u64));
            }
            *out.add(i) = car(cur);
            cur = cdr(cur);
        }
        if rest {
            *out.add(arity) = cur;
        } else if cur != NIL {
            let got = list_to_vec(list).map(|v| v.len()).unwrap_or(arity + 1);
            return Err(arity_message(closure, got as u64));
        }
        Ok(())
    }
}

/// See [`apply_unpack`]; raises the arity error.
///
/// # Safety
/// `closure` must be a closure; `out` must have room for arity (+1) values.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_apply_unpack(
    closure: Value,
    list: Value,
    out: *mut Value,
    loc: u32,
) {
    // SAFETY: forwarded contract.
    if let Err(msg) = unsafe { apply_unpack(closure, list, out) } {
        raise(msg, loc);
    }
}

/// The ABI of variadic primitives.
pub type VariadicFn = extern "C" fn(*mut Region, usize, *const Value, u32) -> Value;

/// Call the variadic primitive at `fnptr` with the elements of `list`.
///
/// # Safety
/// `fnptr` must be a variadic primitive's address; `region` must be live.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_call_variadic_list(
    fnptr: usize,
    region: *mut Region,
    list: Value,
    loc: u32,
) -> Value {
    let Some(items) = list_to_vec(list) else {
        raise(
            format!(
                "apply: expected a list of arguments, got {}",
                display_string(list)
            ),
            loc,
        )
    };
    // SAFETY: caller contract: fnptr has the variadic primitive ABI.
    let f: VariadicFn = unsafe { std::mem::transmute::<usize, VariadicFn>(fnptr) };
    f(region, items.len(), items.as_ptr(), loc)
}

/// The object a forwarded original stands for (generated code calls this on
/// the cold path of a kind test that met a forwarded object).
#[no_mangle]
pub extern "C" fn omni_rt_resolve(v: Value) -> Value {
    resolve(v)
}

/// Message for calling a non-function.
pub fn not_fn_message(v: Value) -> String {
    format!("not a function: {}", crate::print::write_string(v))
}

#[no_mangle]
pub extern "C" fn omni_rt_err_not_fn(v: Value, loc: u32) -> ! {
    raise(not_fn_message(v), loc)
}

/// Message for reading an unbound variable.
pub fn unbound_message(name_sym: Value) -> String {
    format!("unbound variable: {}", display_string(name_sym))
}

#[no_mangle]
pub extern "C" fn omni_rt_err_unbound(name_sym: Value, loc: u32) -> ! {
    raise(unbound_message(name_sym), loc)
}

#[no_mangle]
pub extern "C" fn omni_rt_err_arity(closure: Value, got: u64, loc: u32) -> ! {
    raise(arity_message(closure, got), loc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::omni_region_create;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn apply_unpack_fixed_and_rest() {
        let r = omni_region_create();
        // SAFETY: fresh region; out arrays are large enough.
        unsafe {
            let l = list_from_slice(r, &[make_int(1), make_int(2), make_int(3), make_int(4)]);
            let with_rest = alloc_closure(r, 0, 0, closure_info(2, true, 0), intern("f"));
            let mut out = [0u64; 3];
            apply_unpack(with_rest, l, out.as_mut_ptr()).unwrap();
            assert_eq!(&out[..2], &[make_int(1), make_int(2)]);
            assert_eq!(out[2], cdr(cdr(l)), "rest shares the tail");
            assert_eq!(display_string(out[2]), "(3 4)");
            let exact = list_from_slice(r, &[make_int(1), make_int(2)]);
            apply_unpack(with_rest, exact, out.as_mut_ptr()).unwrap();
            assert_eq!(out[2], NIL);
            let short = list_from_slice(r, &[make_int(1)]);
            assert_eq!(
                apply_unpack(with_rest, short, out.as_mut_ptr()).unwrap_err(),
                "wrong number of arguments to f: expected at least 2, got 1"
            );
            let fixed = alloc_closure(r, 0, 0, closure_info(3, false, 0), NOTHING);
            assert_eq!(
                apply_unpack(fixed, l, out.as_mut_ptr()).unwrap_err(),
                "wrong number of arguments to lambda: expected 3, got 4"
            );
            apply_unpack(fixed, cdr(l), out.as_mut_ptr()).unwrap();
            assert_eq!(out, [make_int(2), make_int(3), make_int(4)]);
        }
    }

    #[test]
    fn error_messages() {
        let r = omni_region_create();
        // SAFETY: fresh region.
        let s = unsafe { make_string(r, "a") };
        assert_eq!(not_fn_message(make_int(5)), "not a function: 5");
        assert_eq!(not_fn_message(s), "not a function: \"a\"");
        assert_eq!(unbound_message(intern("x")), "unbound variable: x");
    }

    #[test]
    fn variadic_prims_called_with_a_list() {
        let r = omni_region_create();
        let plus = crate::prims::lookup("+").unwrap().addr;
        let str_prim = crate::prims::lookup("str").unwrap().addr;
        // SAFETY: fresh region; the addresses are variadic primitives.
        unsafe {
            let l = list_from_slice(r, &[make_int(1), make_int(2), make_int(3)]);
            assert_eq!(omni_rt_call_variadic_list(plus, r, l, 0), make_int(6));
            assert_eq!(omni_rt_call_variadic_list(plus, r, NIL, 0), make_int(0));
            let parts = list_from_slice(r, &[make_string(r, "x="), make_float(r, 1.5)]);
            assert_eq!(
                display_string(omni_rt_call_variadic_list(str_prim, r, parts, 0)),
                "x=1.5"
            );
        }
    }

    #[test]
    fn alloc_helpers() {
        let r = omni_region_create();
        let argv = [intern("a"), make_int(1), intern("b"), make_int(2)];
        // SAFETY: fresh region; argv holds 4 values.
        unsafe {
            assert_eq!(
                display_string(omni_alloc_dict(r, 4, argv.as_ptr(), 0)),
                "#{:a 1 :b 2}"
            );
            assert_eq!(
                display_string(omni_alloc_array(r, 4, argv.as_ptr())),
                "[a 1 b 2]"
            );
            assert_eq!(
                display_string(omni_rt_list_from_argv(r, 0, std::ptr::null())),
                "()"
            );
            let text = "héllo";
            assert_eq!(
                display_string(omni_make_string(r, text.as_ptr(), text.len())),
                "héllo"
            );
            assert_eq!(omni_intern(text.as_ptr(), text.len()), intern("héllo"));
            assert_eq!(display_string(omni_make_float(r, 2.5f64.to_bits())), "2.5");
        }
    }

    extern "C" fn deep_entry() -> u64 {
        // The limit is armed on the program thread and lies below us.
        let limit = stack_limit();
        let sp = current_stack_pointer();
        (limit != 0 && limit < sp && sp - limit < stack_size()) as u64
    }

    #[test]
    fn run_arms_the_stack_limit() {
        static RESULT: AtomicUsize = AtomicUsize::new(0);
        extern "C" fn entry() -> u64 {
            RESULT.store(deep_entry() as usize + 1, Ordering::SeqCst);
            0
        }
        assert_eq!(run_jit(entry), 0);
        assert_eq!(RESULT.load(Ordering::SeqCst), 2);
        assert_eq!(stack_limit(), 0, "the test thread's own limit is untouched");
    }

    /// Runs this test binary again with `OMNI_RT_CHILD=<mode>` for the one
    /// test `name`, returning (exit code, stdout, stderr): errors end the
    /// process, so their observable behaviour is checked from outside.
    fn run_child(name: &str, mode: &str, extra_env: &[(&str, &str)]) -> (i32, String, String) {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = std::process::Command::new(exe);
        cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env("OMNI_RT_CHILD", mode);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn child_mode() -> Option<String> {
        std::env::var("OMNI_RT_CHILD").ok()
    }

    #[test]
    fn uncaught_error_flushes_stdout_reports_and_exits_1() {
        if child_mode().as_deref() == Some("raise") {
            let locs = "\nmain.omni:4:9";
            // SAFETY: the table text outlives the call; the prim gets a live region.
            unsafe {
                crate::error::omni_rt_set_locs(locs.as_ptr(), locs.len());
                write_stdout("partial output");
                crate::prims::list::omni_prim_car(
                    crate::region::omni_region_create(),
                    make_int(5),
                    1,
                );
            }
            unreachable!("car of 5 must raise");
        }
        let (code, out, err) = run_child(
            "rt::tests::uncaught_error_flushes_stdout_reports_and_exits_1",
            "raise",
            &[],
        );
        assert_eq!(code, 1, "stderr: {err}");
        assert!(out.contains("partial output"), "stdout: {out}");
        assert!(
            err.contains("error: car: expected a pair, got 5\n  at main.omni:4:9\n"),
            "stderr: {err}"
        );
    }

    /// Recurses like generated code does: each frame checks the stack
    /// pointer against the limit in its "prologue".
    #[inline(never)]
    fn recurse_with_prologue_check(depth: u64) -> u64 {
        let mut pad = [0u8; 256];
        pad[0] = depth as u8;
        std::hint::black_box(&mut pad);
        if current_stack_pointer() < stack_limit() {
            omni_rt_stack_overflow(0);
        }
        recurse_with_prologue_check(depth + 1) + pad[0] as u64
    }

    #[test]
    fn deep_recursion_reports_stack_overflow() {
        if child_mode().as_deref() == Some("overflow") {
            extern "C" fn entry() -> u64 {
                write_stdout("before\n");
                recurse_with_prologue_check(0)
            }
            run_jit(entry);
            unreachable!("the recursion must overflow");
        }
        let (code, out, err) = run_child(
            "rt::tests::deep_recursion_reports_stack_overflow",
            "overflow",
            &[("OMNI_STACK_SIZE", "8388608")],
        );
        assert_eq!(code, 1, "stderr: {err}");
        assert!(out.contains("before\n"), "stdout: {out}");
        assert!(err.contains("error: stack overflow\n"), "stderr: {err}");
    }

    #[test]
    fn normal_run_flushes_output_and_records_args() {
        if child_mode().as_deref() == Some("main") {
            extern "C" fn entry() -> u64 {
                let r = crate::region::omni_region_create();
                // SAFETY: live region; the prim's argv holds one value.
                let l = unsafe { crate::prims::io::omni_prim_command_line_args(r, 0) };
                write_stdout(&format!("args={}\n", display_string(l)));
                0
            }
            let argv: Vec<std::ffi::CString> = ["prog", "a", "λ"]
                .iter()
                .map(|s| std::ffi::CString::new(*s).unwrap())
                .collect();
            let ptrs: Vec<*const u8> = argv.iter().map(|c| c.as_ptr() as *const u8).collect();
            // SAFETY: ptrs holds 3 C strings that outlive the call.
            let code = unsafe { omni_rt_main(3, ptrs.as_ptr(), entry) };
            std::process::exit(code + 7);
        }
        let (code, out, _) = run_child(
            "rt::tests::normal_run_flushes_output_and_records_args",
            "main",
            &[],
        );
        assert_eq!(code, 7);
        assert!(out.contains("args=(a λ)\n"), "stdout: {out}");
    }
}
