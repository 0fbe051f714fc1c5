//! End-to-end tests: every `tests/cases/NAME.omni` runs through the real
//! `omnic` binary twice — `omnic run` (JIT) and `omnic build` + the
//! executable — and both must produce exactly `NAME.out` on stdout. When
//! `NAME.err` exists the program must fail: exit status 1 (never a signal) and
//! every line of `NAME.err` must appear in stderr. `NAME.env` (optional) holds
//! `KEY=VALUE` lines for the environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn omnic() -> &'static str {
    env!("CARGO_BIN_EXE_omnic")
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

struct Expect {
    stdout: String,
    stderr_lines: Vec<String>,
    fails: bool,
    env: Vec<(String, String)>,
}

fn expectations(name: &str) -> Expect {
    let dir = cases_dir();
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).ok();
    let err = read("err");
    Expect {
        stdout: read("out").unwrap_or_default(),
        fails: err.is_some(),
        stderr_lines: err
            .map(|e| {
                e.lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        env: read("env")
            .map(|e| {
                e.lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn check(mode: &str, name: &str, out: &Output, exp: &Expect) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let Some(code) = out.status.code() else {
        return Err(format!(
            "[{mode}] {name}: killed by a signal ({:?})\nstderr:\n{stderr}",
            out.status
        ));
    };
    let want_code = if exp.fails { 1 } else { 0 };
    if code != want_code {
        return Err(format!(
            "[{mode}] {name}: exit status {code}, expected {want_code}\nstderr:\n{stderr}"
        ));
    }
    if stdout != exp.stdout {
        return Err(format!(
            "[{mode}] {name}: stdout differs\n--- expected\n{}\n--- got\n{stdout}\n--- stderr\n{stderr}",
            exp.stdout
        ));
    }
    for line in &exp.stderr_lines {
        if !stderr.contains(line.as_str()) {
            return Err(format!(
                "[{mode}] {name}: stderr lacks {line:?}\n--- stderr\n{stderr}"
            ));
        }
    }
    if !exp.fails && stderr.contains("error") {
        return Err(format!("[{mode}] {name}: unexpected stderr\n{stderr}"));
    }
    Ok(())
}

/// Run one case in both modes.
fn run_case(name: &str) {
    let dir = cases_dir();
    let src = dir.join(format!("{name}.omni"));
    assert!(src.exists(), "missing {}", src.display());
    let exp = expectations(name);
    let mut failures = Vec::new();

    let mut cmd = Command::new(omnic());
    cmd.arg("run")
        .arg(&src)
        .current_dir(&dir)
        .envs(exp.env.iter().cloned());
    let out = cmd.output().expect("running omnic");
    if let Err(e) = check("run", name, &out, &exp) {
        failures.push(e);
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let exe = tmp.path().join(name);
    let build = Command::new(omnic())
        .arg("build")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("omnic build");
    let compile_error = !build.status.success();
    if compile_error {
        // A compile error must be reported the same way by `build`.
        if let Err(e) = check("build", name, &build, &exp) {
            failures.push(e);
        }
    } else {
        let out = Command::new(&exe)
            .current_dir(&dir)
            .envs(exp.env.iter().cloned())
            .output()
            .expect("run exe");
        if let Err(e) = check("exe", name, &out, &exp) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_case(&stringify!($name).replace('_', "-"));
            }
        )*
        const LISTED: &[&str] = &[$(stringify!($name)),*];
    };
}

cases!(
    hello,
    fib30,
    counter,
    tail_loop,
    mutual_recursion,
    list_million,
    printing,
    str_concat,
    define_forms,
    let_forms,
    control,
    quasiquote,
    closures,
    higher_order,
    strings,
    dicts_arrays,
    err_wrong_type,
    err_car_empty,
    err_index,
    err_div_zero,
    err_overflow,
    err_not_function,
    err_arity,
    err_stack_overflow,
    err_user_error,
    err_unbalanced,
    err_unbound,
    err_bad_escape,
    err_malformed_let,
    err_special_arity,
);

/// Every case file is listed above (so none is silently skipped).
#[test]
fn every_case_is_listed() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(cases_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("omni") {
            let stem = path
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .replace('-', "_");
            if !LISTED.contains(&stem.as_str()) {
                missing.push(stem);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cases not listed in tests/e2e.rs: {missing:?}"
    );
}

/// The README's example command works from another directory.
#[test]
fn build_from_any_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.omni");
    let st = Command::new(omnic())
        .arg("build")
        .arg(&src)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let exe = tmp.path().join("hello");
    let out = Command::new(&exe).current_dir("/").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Hello, OmniLisp!"));
}
