//! Program start-up and the allocation helpers generated code calls:
//! running the entry on a big-stack thread with the stack-overflow limit
//! armed (`base::stack`), recording the command line, and the
//! `omni_alloc_*`/`omni_make_*` constructors for literals and closures.

use crate::base::raise::raise;
use crate::base::stack::{arm_stack_limit, record_touched_stack, set_stack_limit, stack_size};
use crate::base::value::*;
use crate::control::call::args;
use crate::heap::dict::{alloc_dict, dict_set};
use crate::heap::object::*;
use crate::prims::io::set_command_line_args;
use crate::region::Region;

// ------------------------------------------------------------------ start-up

/// Run the program entry on a thread with a big stack and the overflow
/// check armed; returns the exit status (0: errors exit the process with 1
/// from `raise`).
pub fn run_jit(entry: extern "C" fn() -> u64) -> i32 {
    let size = stack_size();
    crate::base::stats::start_program();
    // The program thread is the only one running runtime code until it
    // spawns (base/atomics.rs, `SOLE_THREAD`); this thread only waits for
    // it. The runtime's unit tests run programs beside other tests that
    // use regions, so they keep every count atomic.
    #[cfg(not(test))]
    crate::base::atomics::sole_thread_begin();
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
            record_touched_stack(size);
            result
        })
        .expect("omni: cannot start the program thread");
    let _ = handle.join();
    crate::base::raise::defer_to_error_report();
    crate::base::raise::run_exit_hooks();
    0
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
    crate::base::stdout::ignore_sigpipe();
    run_jit(entry)
}

/// Called by a prologue whose stack pointer passed the thread's stack
/// limit. The limit is cleared first so code run on the way out cannot
/// re-trigger it.
#[no_mangle]
pub extern "C" fn omni_rt_stack_overflow(loc: u32) -> ! {
    set_stack_limit(0);
    if crate::rt::repl::take_interrupt() {
        raise("interrupted".to_owned(), loc)
    }
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
    let bytes = if len == 0 {
        &[][..]
    } else {
        // SAFETY: forwarded contract.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::stack::*;
    use crate::base::stdout::write_stdout;
    use crate::control::call::*;
    use crate::graph::print::display_string;
    use crate::rt::region_abi::omni_region_create;
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
                crate::base::raise::omni_rt_set_locs(locs.as_ptr(), locs.len());
                write_stdout("partial output");
                crate::prims::list::omni_prim_car(
                    crate::rt::region_abi::omni_region_create(),
                    make_int(5),
                    1,
                );
            }
            unreachable!("car of 5 must raise");
        }
        let (code, out, err) = run_child(
            "rt::entry::tests::uncaught_error_flushes_stdout_reports_and_exits_1",
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
            "rt::entry::tests::deep_recursion_reports_stack_overflow",
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
                let r = crate::rt::region_abi::omni_region_create();
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
            "rt::entry::tests::normal_run_flushes_output_and_records_args",
            "main",
            &[],
        );
        assert_eq!(code, 7);
        assert!(out.contains("args=(a λ)\n"), "stdout: {out}");
    }
}
