//! Shared helpers of the runtime's integration tests: the child-process
//! pattern for aborts (a test re-runs its own test binary with
//! `OMNI_CHILD_SCENARIO` set, the child performs the misuse and must abort,
//! the parent checks the exit status and the stderr message).

#![allow(dead_code)]

use std::process::{Command, Output};

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
