//! Shared helpers of the runtime's integration tests: building and walking
//! value graphs, and the child-process pattern for aborts (a test re-runs its own test binary with
//! `OMNI_CHILD_SCENARIO` set, the child performs the misuse and must abort,
//! the parent checks the exit status and the stderr message).

#![allow(dead_code)]

use omni_runtime::object::alloc_pair;
use omni_runtime::region::Region;
use omni_runtime::value::{is_ptr, make_int, Value, KIND_MASK, NIL};
use std::process::{Command, Output};

/// The list `(from from+1 ... from+n-1)` allocated in `r`.
///
/// # Safety
/// `r` is a live region of the calling thread.
pub unsafe fn list(r: *mut Region, from: i64, n: i64) -> Value {
    let mut l = NIL;
    for i in (from..from + n).rev() {
        // SAFETY: caller contract.
        l = unsafe { alloc_pair(r, make_int(i), l) };
    }
    l
}

/// Visit every object reachable from `v` through the metadata's `trace`;
/// `check` sees each once. Returns the number of objects.
///
/// # Safety
/// Everything reachable from `v` is live.
pub unsafe fn walk(v: Value, check: &mut dyn FnMut(Value)) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        if !is_ptr(x) || !seen.insert(x) {
            continue;
        }
        check(x);
        // SAFETY: `x` is a live object (caller contract): it has a header.
        let kind = unsafe { (*(x as *const u64) & KIND_MASK) as u8 };
        let meta = omni_runtime::heap::kinds::metadata(kind);
        // SAFETY: as above; `trace` visits the object's value slots.
        unsafe { (meta.trace)(x, &mut |slot| stack.push(*slot)) };
    }
    seen.len()
}

pub const SCENARIO_VAR: &str = "OMNI_CHILD_SCENARIO";

/// The scenario this process should run, if it is a child.
pub fn child_scenario() -> Option<String> {
    std::env::var(SCENARIO_VAR).ok()
}

/// Re-run this test binary's `entry` test with `scenario`, plus extra env.
pub fn run_child(entry: &str, scenario: &str, env: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([entry, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO_VAR, scenario);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn child test process")
}

/// Assert the child aborted (not a normal exit, not a test failure exit
/// code 101) and that stderr contains every one of `needles`.
pub fn assert_aborted_with(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "child should have aborted; stderr:\n{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(6),
            "child should die of SIGABRT; status {:?}; stderr:\n{stderr}",
            out.status
        );
    }
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}:\n{stderr}");
    }
}
