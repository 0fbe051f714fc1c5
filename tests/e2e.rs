//! End-to-end tests: every `tests/cases/NAME.omni` runs through the real
//! `omnic` binary twice — `omnic run` (JIT) and `omnic build` + the
//! executable — and both must produce exactly `NAME.out` on stdout. When
//! `NAME.err` exists the program must fail: exit status 1 (never a signal) and
//! every line of `NAME.err` must appear in stderr. `NAME.env` (optional) holds
//! `KEY=VALUE` lines for the environment. `NAME.stderr` (optional) holds
//! checks on the stderr of a successful run: `stat KEY OP N` compares the
//! `omni-stats: KEY=V` line (OP one of `= < <= > >=`), any other line must
//! appear verbatim. Every run gets a fresh empty directory of its own in
//! `OMNI_TEST_TMP` for the files a program writes (never the repository).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn omnic() -> &'static str {
    env!("CARGO_BIN_EXE_omnic")
}

/// `omnic check FILE`, its output.
fn omnic_check(src: &Path) -> Output {
    Command::new(omnic())
        .arg("check")
        .arg(src)
        .output()
        .unwrap()
}

/// The stems of the `.omni` files in `dir`, sorted.
fn omni_programs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension().and_then(|x| x.to_str()) == Some("omni"))
                .then(|| path.file_stem().unwrap().to_str().unwrap().to_string())
        })
        .collect();
    names.sort();
    names
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

struct Expect {
    stdout: String,
    stderr_lines: Vec<String>,
    stderr_checks: Vec<String>,
    fails: bool,
    env: Vec<(String, String)>,
}

fn expectations(name: &str) -> Expect {
    let dir = cases_dir();
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).ok();
    let err = read("err");
    Expect {
        stdout: read("out").unwrap_or_default(),
        stderr_checks: read("stderr")
            .map(|e| {
                e.lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
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
    // Call-stack lines name the source as it was given (an absolute path
    // here): `.err` files write it relative to tests/cases.
    let stderr_rel = stderr.replace(&format!("{}/", cases_dir().display()), "");
    for line in &exp.stderr_lines {
        if !stderr_rel.contains(line.as_str()) {
            return Err(format!(
                "[{mode}] {name}: stderr lacks {line:?}\n--- stderr\n{stderr}"
            ));
        }
    }
    if !exp.fails && stderr.contains("error") {
        return Err(format!("[{mode}] {name}: unexpected stderr\n{stderr}"));
    }
    for check in &exp.stderr_checks {
        check_stderr_line(check, &stderr)
            .map_err(|e| format!("[{mode}] {name}: {e}\n--- stderr\n{stderr}"))?;
    }
    Ok(())
}

#[path = "support/stats.rs"]
mod stats;
pub use stats::stat;

fn check_stderr_line(check: &str, stderr: &str) -> Result<(), String> {
    let Some(rest) = check.strip_prefix("stat ") else {
        return if stderr.lines().any(|l| l == check) {
            Ok(())
        } else {
            Err(format!("stderr lacks the line {check:?}"))
        };
    };
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [key, op, want] = parts.as_slice() else {
        return Err(format!("malformed check {check:?}"));
    };
    let want: u64 = want
        .parse()
        .map_err(|_| format!("malformed number in {check:?}"))?;
    let got = stat(stderr, key).ok_or_else(|| format!("no omni-stats line for {key}"))?;
    let ok = match *op {
        "=" => got == want,
        "<" => got < want,
        "<=" => got <= want,
        ">" => got > want,
        ">=" => got >= want,
        _ => return Err(format!("unknown operator in {check:?}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{key}={got} fails `{rest}`"))
    }
}

/// Run one case in both modes.
fn run_case(name: &str) {
    let dir = cases_dir();
    let src = dir.join(format!("{name}.omni"));
    assert!(src.exists(), "missing {}", src.display());
    let exp = expectations(name);
    let failures = run_both_modes(name, &src, &dir, &[], &exp);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `omnic run SRC -- ARGS` and `omnic build SRC` + the executable with
/// ARGS, both from `dir`, checked against `exp`; the failures found. A
/// compile error must be reported the same way by `build`.
fn run_both_modes(
    name: &str,
    src: &Path,
    dir: &Path,
    args: &[String],
    exp: &Expect,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut run = Command::new(omnic());
    run.arg("run").arg(src);
    if !args.is_empty() {
        run.arg("--").args(args);
    }
    let run_scratch = tempfile::tempdir().expect("temp dir");
    let out = run
        .current_dir(dir)
        .envs(exp.env.iter().cloned())
        .env("OMNI_TEST_TMP", run_scratch.path())
        .output()
        .expect("running omnic");
    if let Err(e) = check("run", name, &out, exp) {
        failures.push(e);
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let exe = tmp.path().join(name);
    // Compiled like it runs (from `dir`, with the case's environment):
    // `OMNI_PATH` steers where imports are found.
    let build = Command::new(omnic())
        .arg("build")
        .arg(src)
        .arg("-o")
        .arg(&exe)
        .current_dir(dir)
        .envs(exp.env.iter().cloned())
        .output()
        .expect("omnic build");
    let result = if build.status.success() {
        let exe_scratch = tempfile::tempdir().expect("temp dir");
        let out = Command::new(&exe)
            .args(args)
            .current_dir(dir)
            .envs(exp.env.iter().cloned())
            .env("OMNI_TEST_TMP", exe_scratch.path())
            .output()
            .expect("run exe");
        check("exe", name, &out, exp)
    } else {
        check("build", name, &build, exp)
    };
    if let Err(e) = result {
        failures.push(e);
    }
    failures
}

/// One test per program NAME (written with `_` for `-`), each calling
/// `$run("NAME")`, and `$list`: every NAME, for the test that no program file
/// is left out.
macro_rules! program_tests {
    ($run:path, $list:ident; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $run(&stringify!($name).replace('_', "-"));
            }
        )*
        const $list: &[&str] = &[$(stringify!($name)),*];
    };
}

program_tests!(run_case, LISTED;
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
    err_quote_arity,
    ctrr_build_sum,
    match_quoted_lists,
    ctrr_loop_drop,
    ctrr_binary_trees,
    ctrr_escape_return,
    ctrr_escape_closure,
    ctrr_escape_global,
    ctrr_escape_older,
    barrier_keep_merge,
    barrier_keep_transmigrate,
    barrier_cycle,
    types_structs,
    dispatch,
    try_catch,
    effects,
    effects_regions,
    err_dispatch_ambiguous,
    err_dispatch_none,
    err_immutable,
    err_annotation,
    err_annotation_compile,
    err_annotation_return,
    err_uncaught,
    match_contract,
    match_sequences,
    match_guards,
    match_literals,
    match_dict,
    match_types,
    err_match_none,
    err_match_malformed,
    import_basic,
    err_import_missing,
    err_import_cycle,
    err_import_syntax,
    stdlib_names,
    print_cycles,
    err_read_file,
    thread_spawn_join,
    thread_channels,
    thread_stress,
    thread_join_large,
    thread_try_catch,
    thread_err_send_closed,
    thread_err_stack_overflow,
    thread_err_uncaught,
    thread_err_foreign_mutation,
    thread_channel_identity,
    // identity (issue 11): the matrix and the programs, three thresholds each
    identity_t0,
    identity_default,
    identity_huge,
    identity_shapes_t0,
    identity_shapes_default,
    identity_shapes_huge,
    identity_dict_keys,
    // expand: definition shapes, annotated tail calls, quoted dicts, internal names
    generic_name_positions,
    tail_call_annotated,
    err_quote_odd_dict,
    err_internal_prim,
    quote_deep,
    // front end: nesting limit, unreadable input
    nesting_limit,
    invalid_utf8,
    nul_in_symbol,
    // rtfix: runtime defects of issue 14
    float_corners,
    float_to_int,
    err_huge_alloc,
    err_nth_index,
    effects_one_shot,
    equal_cyclic,
    err_not_function_long,
    // early region exit
    early_exit,
    // loop carry regions (issue 12)
    carry_identity,
    // cheap regions and float temporaries
    float_temporaries,
    // the global state: renewal keeps identity (issue 12, part 2)
    state_identity,
    thread_err_global_set,
    state_string_log,
    // errors: every compile error, hints, compile-time arity (issue 14, item 4)
    err_hint_lambda,
    err_hint_let_scheme,
    err_hint_let_clojure,
    err_hint_define_scheme,
    err_did_you_mean,
    err_three_errors,
    err_arity_known,
    err_generic_arity,
    err_call_literal,
    hint_valid_shapes,
    arity_reassigned,
    err_struct_field,
    err_syntax_several,
    // effects: effects in constant space, threads share no mutable state (issue 14 items 7, 9)
    effects_generator,
    thread_err_set_captured,
    thread_err_set_captured_runtime,
    effects_handler_chain,
    state_older_version,
    state_result_region,
    state_escape_built,
    // call stacks of runtime errors (issue 15 item 2)
    stack_div_zero,
    stack_type_error,
    stack_arity,
    stack_nth_map,
    stack_error,
    stack_thread,
    // macros: hygienic `define [syntax ...]` (issue 16 item 1)
    macro_spec,
    macro_hygiene,
    macro_err_no_rule,
    macro_err_depth,
    macro_err_malformed,
    macro_err_runaway,
    macro_import,
    macro_forms,
    macro_err_use_before_definition,
    // the standard library of LANGUAGE.md §10 (issue 16 items 3, 4)
    std_strings,
    std_chars,
    std_predicates,
    std_apply,
    std_lists,
    std_dicts,
    std_files,
    std_process,
    err_std_missing_file,
    err_std_format_arity,
    err_std_random_zero,
    err_std_string_repeat_huge,
    err_std_exit_range,
    array_ref_inline,
    state_env_value,
    division_inline,
    module_clash,
    module_cycle,
    module_geometry,
    module_omni_path,
    module_prelude_immune,
    module_private,
    module_private_unqualified,
    module_qualified,
    module_run_once,
    module_same_private,
    module_same_twice,
    module_struct_generic,
    module_two_bindings,
    module_macro,
    module_effect,
    module_prelude_shadow_error,
    array_set_inline,
    thread_err_array_set_immediate,
    state_carry_hold,
    inline_args,
    inline_error,
    inline_set,
    inline_generic,
    inline_annot,
    inline_carry,
    inline_stack_tail,
    macro_err_runaway_growth,
    compare_branch,
    compare_branch_err,
    scope_region_first_use,
    prim_wrapper_binary,
    loop_region_reuse,
    state_define_no_renewal,
    stack_apply,
    stack_apply2,
    stack_handler_clause,
    stack_generator,
    stack_callbacks,
    array_ref_checked,
    std_modules,
    err_std_module_unknown,
    err_std_module_private,
    macro_local_shadow,
    module_macro_scope,
    err_module_macro_private,
    err_module_macro_only,
    err_module_macro_qualified_private,
    err_module_macro_clash,
    err_module_macro_clash_macro,
    err_module_macro_clash_import,
    err_set_std_name,
    err_set_imported,
    set_own_global,
    err_std_arity,
    err_define_module_name,
    float_inline_arith,
    field_cache,
    loop_region_reset,
    float_unboxed,
    dispatch_cache,
    thread_rendezvous,
    float_field_churn,
    unread_definitions,
    string_inline_ref,
    type_test_inline,
    char_int_inline,
    float_fields_raw,
    float_fields_raw_type_error,
    float_fields_raw_constructor_error,
    thread_err_float_field,
    float_fields_raw_churn,
    dispatch_fixed_arity,
    int_params,
    float_eq_value,
    list_pattern_inline,
    dict_float_slot,
    dict_float_slot_churn,
    dispatch_type_cache,
    make_array_inline,
    type_p_inline,
    state_inline_checks,
    int_globals,
    string_join_fast,
    scope_shadowing,
    scope_after_error,
    list_literal_runs,
    int_copies,
    int_copy_overflow,
    int_copy_overflow_up,
    int_copy_overflow_mul,
    int_copy_not_int,
    int_copy_deep,
    int_copy_regions,
    carry_store_older,
    carry_store_older_copies,
    define_call_outside_state,
    carry_store_older_global,
    carry_store_where,
    state_loop_in_place,
    pair_checked,
    add_constant_overflow,
    struct_checked,
    state_pin_abandoned,
);

/// Every case file is listed above (so none is silently skipped).
#[test]
fn every_case_is_listed() {
    let mut missing = Vec::new();
    for name in omni_programs(&cases_dir()) {
        let stem = name.replace('-', "_");
        if !LISTED.contains(&stem.as_str()) {
            missing.push(stem);
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

/// Build `tests/cases/NAME.omni` into a temporary directory.
fn build_case(name: &str, dir: &Path) -> PathBuf {
    let exe = dir.join(name);
    build_source(&cases_dir().join(format!("{name}.omni")), &exe);
    exe
}

/// `omnic build SRC -o EXE`, which must succeed.
fn build_source(src: &Path, exe: &Path) {
    build_source_with(src, exe, Path::new("."), &[]);
}

/// [`build_source`] from `dir` with a case's environment (`OMNI_PATH`
/// steers where imports are found).
fn build_source_with(src: &Path, exe: &Path, dir: &Path, env: &[(String, String)]) {
    let st = Command::new(omnic())
        .arg("build")
        .arg(src)
        .arg("-o")
        .arg(exe)
        .current_dir(dir)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "build {}: {}",
        src.display(),
        String::from_utf8_lossy(&st.stderr)
    );
}

/// The valgrind tests need valgrind; `.ci/run` installs it.
fn require_valgrind() {
    let have = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        have,
        "valgrind is required for this test (.ci/run installs it)"
    );
}

/// Run `exe ARGS` under each valgrind `tool` (with the runtime's helgrind
/// suppressions and a 16 MiB thread stack): no error, and `stdout`.
fn assert_threads_clean(exe: &Path, args: &[&str], tools: &[&str], stdout: &str) {
    let supp = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/helgrind.supp");
    for tool in tools {
        let out = Command::new("valgrind")
            .arg(tool)
            .arg(format!("--suppressions={}", supp.display()))
            .args(["--error-exitcode=1", "-q"])
            .arg(exe)
            .args(args)
            .env("OMNI_STACK_SIZE", "16777216")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{tool}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{tool}");
    }
}

/// Build each case and run it under valgrind memcheck: exit 0 (no error),
/// and the case's expected output.
/// Run `exe ARGS` under valgrind memcheck (in the cases directory) and
/// require a clean exit; returns the output.
fn memcheck(name: &str, exe: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let out = Command::new("valgrind")
        .args(["--error-exitcode=1", "-q"])
        .arg(exe)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cases_dir())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name} under valgrind:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_memcheck_clean(names: &[&str], env: &[(&str, &str)]) {
    require_valgrind();
    let tmp = tempfile::tempdir().unwrap();
    for name in names {
        let exe = build_case(name, tmp.path());
        let out = memcheck(name, &exe, &[], env);
        let expected = std::fs::read_to_string(cases_dir().join(format!("{name}.out"))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "{name} output under valgrind"
        );
    }
}

/// Threads: values returned through `join` (large lists and dicts, then
/// mutated by the joiner) and passed through channels are memcheck-clean in
/// the built executable (docs/REGION_THREADING_MODEL.md).
#[test]
fn thread_handoffs_are_memcheck_clean() {
    assert_memcheck_clean(
        &["thread-join-large", "thread-channels", "thread-spawn-join"],
        &[("OMNI_STACK_SIZE", "16777216")],
    );
}

/// The producer/consumer stress program, at a reduced size, runs clean
/// under helgrind and drd (suppressions: runtime/tests/helgrind.supp,
/// explained there and in docs/REGION_THREADING_MODEL.md).
#[test]
fn thread_stress_is_helgrind_and_drd_clean() {
    require_valgrind();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(cases_dir().join("thread-stress.omni")).unwrap();
    let small = text.replace("(define N 200000)", "(define N 2000)");
    assert_ne!(small, text, "thread-stress.omni defines N");
    let src = tmp.path().join("stress-small.omni");
    std::fs::write(&src, small).unwrap();
    let exe = tmp.path().join("stress-small");
    build_source(&src, &exe);
    assert_threads_clean(
        &exe,
        &[],
        &["--tool=helgrind", "--tool=drd"],
        "2000\ntrue\n4\n",
    );
}

/// Each escape category's built executable runs clean under valgrind memcheck.
#[test]
fn escape_categories_are_memcheck_clean() {
    assert_memcheck_clean(
        &[
            "ctrr-escape-return",
            "ctrr-escape-closure",
            "ctrr-escape-global",
            "ctrr-escape-older",
        ],
        &[],
    );
}

/// The store-barrier program (issue 5) is memcheck-clean with either repair:
/// merge (threshold 0) and transmigration (huge threshold).
#[test]
fn barrier_repairs_are_memcheck_clean() {
    assert_memcheck_clean(
        &["barrier-keep-merge", "barrier-cycle"],
        &[("OMNI_MERGE_THRESHOLD_BYTES", "0")],
    );
    assert_memcheck_clean(
        &["barrier-keep-merge", "barrier-cycle"],
        &[("OMNI_MERGE_THRESHOLD_BYTES", "18446744073709551614")],
    );
}

/// The identity programs (forwarded originals read after their region's
/// objects were copied; `pair-checked`, `struct-checked`: pairs and
/// structs read without a test after a first read) are memcheck-clean as built executables, under
/// always-merge, the default threshold and never-merge.
#[test]
fn identity_is_memcheck_clean() {
    let cases = [
        "identity-default",
        "identity-shapes-default",
        "identity-dict-keys",
        "pair-checked",
        "struct-checked",
    ];
    for t in ["0", "1048576", "18446744073709551614"] {
        assert_memcheck_clean(&cases, &[("OMNI_MERGE_THRESHOLD_BYTES", t)]);
    }
}

/// A tail-recursive loop's scope regions do not pile up: the peak number of
/// live regions is the same for 10^5 and 10^6 iterations.
#[test]
fn loop_regions_do_not_grow_with_iterations() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build_case("ctrr-loop-drop", tmp.path());
    let peak = |n: &str| {
        let out = Command::new(&exe)
            .arg(n)
            .env("OMNI_STATS", "1")
            .output()
            .unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (
            stat(&stderr, "regions_peak_live").unwrap(),
            stat(&stderr, "regions_created").unwrap(),
        )
    };
    let (small, created_small) = peak("100000");
    let (large, created_large) = peak("1000000");
    assert_eq!(
        small, large,
        "regions_peak_live grew with the iteration count"
    );
    // And the loop really made a region per iteration, for each count.
    assert!(
        (100_000..200_000).contains(&created_small),
        "{created_small}"
    );
    assert!(created_large >= 1_000_000, "{created_large}");
}

/// `--dump-ctrr` golden files: `tests/ctrr/NAME.omni` → `NAME.dump`.
#[test]
fn ctrr_dump_golden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ctrr");
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("omni") {
            continue;
        }
        count += 1;
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let out = Command::new(omnic())
            .args(["check", "--dump-ctrr", &file])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout).to_string();
        let golden = path.with_extension("dump");
        if std::env::var_os("OMNI_BLESS").is_some() {
            std::fs::write(&golden, &got).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{file}: --dump-ctrr differs from {}\n--- got\n{got}",
                golden.display()
            ));
        }
    }
    assert!(count >= 3, "expected golden programs in tests/ctrr");
    assert!(
        failures.is_empty(),
        "{}\n(re-bless with OMNI_BLESS=1 after checking)",
        failures.join("\n")
    );
}

/// The CTRR decisions the issue names, stated explicitly (the golden files
/// pin the whole dump).
#[test]
fn ctrr_dump_key_decisions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ctrr");
    let dump = |file: &str| {
        let out = Command::new(omnic())
            .args(["check", "--dump-ctrr", file])
            .current_dir(&dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let build = dump("build.omni");
    let build_fn = build
        .split("function build (function)")
        .nth(1)
        .unwrap()
        .split("\nfunction ")
        .next()
        .unwrap();
    assert!(
        build_fn.contains("alloc Cons at build.omni:3:33 -> result: returned"),
        "{build_fn}"
    );
    assert!(build_fn.contains("into result"), "{build_fn}");
    assert!(
        !build_fn.contains("store barrier at") && !build_fn.contains("transmigrate"),
        "{build_fn}"
    );
    let global = dump("global-store.omni");
    // A store on every path is a store constraint: built in the global-state region.
    assert!(
        global.contains(
            "alloc Cons at global-store.omni:8:30 -> state: flows into v2, stored into global `saved` at global-store.omni:8:18"
        ),
        "{global}"
    );
    assert!(
        global.contains("barrier elided at global-store.omni:8:18: global store"),
        "{global}"
    );
    // A store on one path only keeps its barrier: the value is placed by need.
    assert!(
        global.contains("store barrier at global-store.omni:10:58: global store"),
        "{global}"
    );
    assert!(
        global.contains("alloc Cons at global-store.omni:12:16 -> state"),
        "{global}"
    );
    // match, structs and effects: every allocation site is placed.
    let lang = dump("lang.omni");
    assert!(lang.contains("alloc "), "{lang}");
    assert!(!lang.contains("-> ?") && !lang.contains(" in ?"), "{lang}");
    // The loop's scope region ends right after its last use (`length` of
    // the list built into it), before the tail call; the base case does
    // not use it and exits at once.
    let lp = dump("loop.omni");
    assert!(
        lp.contains("region-exit at loop.omni:8:30 (after the last use of v4)"),
        "{lp}"
    );
    assert!(
        lp.contains("region-exit at loop.omni:5:1 (not used on this path)"),
        "{lp}"
    );
}

/// Every `examples/NAME.omni` runs under `omnic run` and as a built
/// executable, from the examples directory, and prints exactly
/// `examples/NAME.out` (required). `examples/NAME.args` (optional) holds the
/// command-line arguments, separated by whitespace.
#[test]
fn examples_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let names = omni_programs(&dir);
    assert!(
        names.len() >= 5,
        "expected at least five examples: {names:?}"
    );
    let mut failures = Vec::new();
    for name in &names {
        let src = dir.join(format!("{name}.omni"));
        let Ok(stdout) = std::fs::read_to_string(dir.join(format!("{name}.out"))) else {
            failures.push(format!("examples/{name}.out is missing"));
            continue;
        };
        let args: Vec<String> = std::fs::read_to_string(dir.join(format!("{name}.args")))
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let exp = Expect {
            stdout,
            stderr_lines: vec![],
            stderr_checks: vec![],
            fails: false,
            env: vec![],
        };
        failures.extend(run_both_modes(name, &src, &dir, &args, &exp));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `omnic build` never overwrites its source: `-o` naming the source, or an
/// extensionless source whose default output is itself (branch front).
#[test]
fn build_refuses_to_overwrite_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "(display 1)\n";
    for (file, output) in [("prog.omni", Some("prog.omni")), ("prog", None)] {
        let src = tmp.path().join(file);
        std::fs::write(&src, text).unwrap();
        let mut cmd = Command::new(omnic());
        cmd.arg("build").arg(file).current_dir(tmp.path());
        if let Some(o) = output {
            cmd.arg("-o").arg(o);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(stderr.contains("is the source file"), "{file}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&src).unwrap(),
            text,
            "{file} was changed"
        );
    }
    std::fs::write(tmp.path().join("main.omni"), text).unwrap();
    std::fs::write(
        tmp.path().join("omnic.toml"),
        "[package]\nentry = \"main.omni\"\noutput = \"./main.omni\"\n",
    )
    .unwrap();
    let out = Command::new(omnic())
        .arg("build")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("main.omni")).unwrap(),
        text
    );
}

/// 100,000 levels of nesting (the documented limit) pass `omnic check`: the
/// front end used to overflow its own stack at 5,000 (branch front). They
/// also run and build: `omnic run` built the quoted datum recursively on the
/// main thread and overflowed its stack (found by the fuzzer), and a quote
/// of arrays inside lists builds as deep.
#[test]
fn check_handles_the_nesting_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 99_996;
    let src = tmp.path().join("deep.omni");
    let text = format!(
        "(display (length (quote {}{})))\n",
        "(".repeat(n),
        ")".repeat(n)
    );
    std::fs::write(&src, text).unwrap();
    let out = omnic_check(&src);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    let mixed = tmp.path().join("mixed.omni");
    let m = n / 2;
    std::fs::write(
        &mixed,
        format!(
            "(display (length (quote ({}{}))))\n",
            "([".repeat(m),
            "])".repeat(m)
        ),
    )
    .unwrap();
    for file in [&src, &mixed] {
        for (mode, mut cmd) in both_mode_commands(file, tmp.path()) {
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                (
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout).trim()
                ),
                (Some(0), "1"),
                "{mode} {}: {}",
                file.display(),
                &stderr[..stderr.len().min(2000)]
            );
        }
    }
}

// ---- branch rtfix (issue 14, runtime defects 8 and 16)

/// `omnic run SRC` and the executable `omnic build SRC` writes, as commands
/// ready to run (the executable lives in `tmp`).
fn both_mode_commands(src: &Path, tmp: &Path) -> Vec<(&'static str, Command)> {
    let mut run = Command::new(omnic());
    run.arg("run").arg(src);
    let exe = tmp.join("prog");
    build_source(src, &exe);
    vec![("run", run), ("exe", Command::new(exe))]
}

/// Write `text` as `prog.omni` in a fresh temporary directory.
fn temp_program(text: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("prog.omni");
    std::fs::write(&src, text).unwrap();
    (tmp, src)
}

/// Lost output is an error: stdout on a full device gives `error: cannot
/// write to stdout: ...` and exit 1 (it used to exit 0 silently).
#[test]
fn stdout_write_failure_is_an_error() {
    let (tmp, src) = temp_program("(println \"hello\")\n(println \"world\")\n");
    for (mode, mut cmd) in both_mode_commands(&src, tmp.path()) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = cmd.stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{mode}] {stderr}");
        assert!(
            stderr.contains("error: cannot write to stdout: No space left on device"),
            "[{mode}] {stderr}"
        );
    }
}

/// A reader that closes the pipe early (`prog | head -1`) ends an endless
/// printer quietly: an exit status (not SIGPIPE), nothing on stderr.
#[test]
fn closed_stdout_pipe_exits_quietly() {
    use std::io::BufRead;
    let (tmp, src) = temp_program("(define loop [i] (do (println i) (loop (+ i 1))))\n(loop 0)\n");
    for (mode, mut cmd) in both_mode_commands(&src, tmp.path()) {
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first, "0\n", "[{mode}]");
        // The reader is dropped here: the pipe is closed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("[{mode}] still running a minute after its reader left");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(
            matches!(status.code(), Some(0) | Some(1)),
            "[{mode}] {status:?}"
        );
        assert!(stderr.is_empty(), "[{mode}] stderr: {stderr}");
    }
}

/// An uncaught error raised in several spawned threads is reported once,
/// with its location and the thread's name.
#[test]
fn uncaught_errors_in_several_threads_report_once() {
    let (tmp, src) = temp_program(
        "(println \"start\")\n\
         (define work [i] (do (define loop [n] (if (= n 0) (error \"boom \" i) (loop (- n 1)))) (loop 100000)))\n\
         (define ts (map (fn [i] (spawn (fn [] (work i)))) (list 1 2 3 4 5 6 7 8)))\n\
         (for-each join ts)\n",
    );
    for (mode, mut cmd) in both_mode_commands(&src, tmp.path()) {
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{mode}] {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "start\n", "[{mode}]");
        assert_eq!(stderr.matches("error:").count(), 1, "[{mode}] {stderr}");
        assert!(stderr.contains("error: boom "), "[{mode}] {stderr}");
        assert!(stderr.contains("  at "), "[{mode}] {stderr}");
        assert!(
            stderr.contains("  in thread omni-thread-"),
            "[{mode}] {stderr}"
        );
    }
}

// ------------------------------------------------------------ bounded memory

/// Long-lived state in bounded memory (LANGUAGE.md §6): each
/// `tests/churn/NAME.omni` program takes its iteration count as its first
/// argument and starts with a header line
/// `;; churn: n=N live=BYTES [frames=K]` (BYTES: the live data at the end,
/// by hand). Built once, it runs at N and 10·N with `OMNI_STATS=1`; at 10·N
/// its peak RSS is within 1.25× of the peak at N, `bytes_peak_live` within
/// 4× of BYTES (at least 64 KiB: a region's first chunks) plus the
/// runtime's own baseline (`bytes_peak_live` of `(println 1)`), peak RSS
/// within 1.5 × `bytes_peak_live` + 8 MiB, and `renewed_bytes` at most
/// twice `bytes_allocated`. Both runs print the same first line (the
/// program's check of its own result).
///
/// `frames=K`: the program is a non-tail recursion one level deep per K
/// iterations, whose machine stack necessarily grows with the depth. Its
/// stack (`bytes_stack`) is then left out of the two comparisons above and
/// bounded on its own: at most 128 bytes per level (+ 1 MiB).
fn run_churn(name: &str) {
    let src = churn_dir().join(format!("{name}.omni"));
    let text = std::fs::read_to_string(&src).unwrap();
    let header = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(";; churn:"))
        .unwrap_or_else(|| panic!("{name}: first line must be `;; churn: n=N live=BYTES`"));
    let field = |key: &str| -> u64 {
        header
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name}: header lacks {key}="))
    };
    let (n, live) = (field("n"), field("live"));
    let frames: Option<u64> = header
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("frames="))
        .map(|v| v.parse().expect("frames=K"));
    let baseline = runtime_baseline_bytes();
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join(name);
    build_source(&src, &exe);
    let run = |count: u64| -> (String, String) {
        let out = Command::new(&exe)
            .arg(count.to_string())
            .env("OMNI_STATS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "{name} {count}: exit {:?}\n{stderr}",
            out.status
        );
        (String::from_utf8_lossy(&out.stdout).to_string(), stderr)
    };
    let (out_small, small) = run(n);
    let (out_large, large) = run(10 * n);
    let get = |stderr: &str, key: &str| {
        stat(stderr, key).unwrap_or_else(|| panic!("{name}: no {key} in\n{stderr}"))
    };
    let figures = |s: &str| {
        format!(
            "peak_rss_kb={} bytes_peak_live={} bytes_allocated={} renewals={} renewed_bytes={}",
            get(s, "peak_rss_kb"),
            get(s, "bytes_peak_live"),
            get(s, "bytes_allocated"),
            get(s, "renewals"),
            get(s, "renewed_bytes")
        )
    };
    let report = format!(
        "{name}: n={n}: {}\n{name}: n={}: {}",
        figures(&small),
        10 * n,
        figures(&large)
    );
    eprintln!("{report}");
    assert_eq!(
        out_small.lines().next(),
        out_large.lines().next(),
        "{name}: the program's own check differs between N and 10N"
    );
    // The machine stack a recursion needs, left out of the comparisons
    // when the program declares one (and bounded per level).
    let stack = |s: &str, count: u64| match frames {
        Some(k) => {
            let bytes = get(s, "bytes_stack");
            assert!(
                bytes <= (count / k) * 128 + (1 << 20),
                "bytes_stack {bytes} above 128 B per level of {} levels\n{report}",
                count / k
            );
            bytes
        }
        None => 0,
    };
    let (rss_n, rss_10n) = (get(&small, "peak_rss_kb"), get(&large, "peak_rss_kb"));
    let stack_10n_kb = stack(&large, 10 * n) / 1024;
    assert!(
        rss_10n.saturating_sub(stack_10n_kb) * 4 <= rss_n * 5,
        "peak RSS grew more than 1.25× from N to 10N\n{report}"
    );
    for (s, count) in [(&small, n), (&large, 10 * n)] {
        let peak_live = get(s, "bytes_peak_live");
        let heap_live = peak_live - stack(s, count);
        assert!(
            heap_live <= 4 * live.max(64 * 1024) + baseline,
            "bytes_peak_live {heap_live} (stack left out) above 4× the live data ({live} B) + the runtime's {baseline} B\n{report}"
        );
        let rss = get(s, "peak_rss_kb") * 1024;
        assert!(
            rss * 2 <= 3 * peak_live + 16 * 1024 * 1024,
            "peak RSS {rss} above 1.5 × bytes_peak_live + 8 MiB\n{report}"
        );
        assert!(
            get(s, "renewed_bytes") <= 2 * get(s, "bytes_allocated"),
            "renewed_bytes above twice bytes_allocated\n{report}"
        );
    }
}

/// `bytes_peak_live` of a program that only prints: the runtime's own
/// buffers and tables, which every program has.
fn runtime_baseline_bytes() -> u64 {
    static BASELINE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BASELINE.get_or_init(|| {
        let (_dir, src) = temp_program("(println 1)\n");
        let exe = src.with_extension("exe");
        build_source(&src, &exe);
        let out = Command::new(&exe).env("OMNI_STATS", "1").output().unwrap();
        stat(&String::from_utf8_lossy(&out.stderr), "bytes_peak_live").unwrap()
    })
}

fn churn_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/churn")
}

mod churn {
    use super::run_churn;
    program_tests!(run_churn, CHURN;
        // one row per tests/churn/NAME.omni (NAME with `-` as `_`)
        rbtree_loop,
        thread_chan,
        walk,
        global_tree,
        global_dict,
        global_slots,
        fold_prim,
        global_two_sets,
        dict_floats,
        global_dict_arg,
    );

    /// Every churn program is listed above.
    #[test]
    fn every_churn_program_is_listed() {
        for name in super::omni_programs(&super::churn_dir()) {
            let stem = name.replace('-', "_");
            assert!(
                CHURN.contains(&stem.as_str()),
                "tests/churn/{name}.omni is not listed in the churn module's program_tests!()"
            );
        }
    }
}

/// The channel/thread churn program (a channel and a thread made, used and
/// dropped per iteration, so every handle core is freed by the reclaim of
/// the last region holding a handle, on whichever thread that is) runs
/// clean at a small size under memcheck and helgrind
/// (docs/REGION_THREADING_MODEL.md §3a).
#[test]
fn thread_chan_churn_is_memcheck_and_helgrind_clean() {
    require_valgrind();
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("thread-chan");
    build_source(&churn_dir().join("thread-chan.omni"), &exe);
    assert_threads_clean(
        &exe,
        &["50"],
        &["--tool=memcheck", "--tool=helgrind"],
        "true\n",
    );
}

/// The memory rule of the bounded-memory issue: on every test program,
/// peak RSS <= 1.5 x bytes_peak_live + 8 MiB, i.e. OMNI_STATS accounts for
/// (nearly) every byte the runtime holds. Every successful case (no
/// `NAME.err`) is built and run with OMNI_STATS=1 and its `NAME.env`.
#[test]
fn peak_rss_is_explained_by_bytes_peak_live() {
    let dir = cases_dir();
    let tmp = tempfile::tempdir().unwrap();
    let names = omni_programs(&dir);
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in names {
        let exp = expectations(&name);
        if exp.fails {
            continue;
        }
        let exe = tmp.path().join(&name);
        build_source_with(&dir.join(format!("{name}.omni")), &exe, &dir, &exp.env);
        let scratch = tempfile::tempdir().unwrap();
        let out = Command::new(&exe)
            .current_dir(&dir)
            .envs(exp.env.iter().cloned())
            .env("OMNI_STATS", "1")
            .env("OMNI_TEST_TMP", scratch.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {:?}\n{stderr}", out.status);
        let (Some(rss_kb), Some(live)) = (
            stat(&stderr, "peak_rss_kb"),
            stat(&stderr, "bytes_peak_live"),
        ) else {
            panic!("{name}: no peak_rss_kb / bytes_peak_live in\n{stderr}");
        };
        let limit = 1.5 * live as f64 + (8 << 20) as f64;
        if (rss_kb * 1024) as f64 > limit {
            failures.push(format!(
                "{name}: peak_rss_kb={rss_kb} > (1.5 x bytes_peak_live={live} + 8 MiB)/1024 = {:.0} \
                 (bytes_held_peak={:?}, bytes_stack={:?})",
                limit / 1024.0,
                stat(&stderr, "bytes_held_peak"),
                stat(&stderr, "bytes_stack"),
            ));
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} cases checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The global state (issue 12, part 2): renewals under memcheck — the
/// identity program under both repairs (always merge, never merge), and the
/// three global churn programs at a small N that still renews several times.
#[test]
fn state_renewal_is_memcheck_clean() {
    for t in ["0", "18446744073709551614"] {
        assert_memcheck_clean(&["state-identity"], &[("OMNI_MERGE_THRESHOLD_BYTES", t)]);
    }
    let tmp = tempfile::tempdir().unwrap();
    for name in ["global-tree", "global-dict", "global-slots"] {
        let exe = tmp.path().join(name);
        build_source(&churn_dir().join(format!("{name}.omni")), &exe);
        let native = Command::new(&exe).arg("5000").output().unwrap();
        let out = memcheck(name, &exe, &["5000"], &[("OMNI_STATS", "1")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.stdout, native.stdout,
            "{name}: same output under valgrind"
        );
        assert!(
            stat(&stderr, "renewals").unwrap() >= 2,
            "{name}: renews at N=5000:\n{stderr}"
        );
    }
}

// ---- branch errors (issue 14, items 4 and 18)

/// Peak resident memory of `omnic check SRC`, in KB, measured by
/// `/usr/bin/time` (a child's own peak; `getrusage` of this process's
/// children would mix in the other tests running beside it).
fn check_peak_rss_kb(src: &Path) -> u64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kb %M"])
        .arg(omnic())
        .arg("check")
        .arg(src)
        .output()
        .expect("/usr/bin/time is installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kb "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {stderr}"))
}

/// A call with 20,000 arguments compiles in memory linear in the count:
/// `(list 0 … N-1)` took 396 MB at 8,000 arguments and 1.5 GB at 16,000
/// (a chain of N inline conses, quadratic in Cranelift's SSA tables).
#[test]
fn many_arguments_compile_in_linear_memory() {
    let n = 20_000;
    let args: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let (_tmp, src) = temp_program(&format!(
        "(define f [.. xs] (length xs))\n(display (length (list {0})))\n(display (f {0}))\n",
        args.join(" ")
    ));
    let kb = check_peak_rss_kb(&src);
    assert!(kb < 300 * 1024, "omnic check took {kb} KB");
}

/// The effect programs of issue 14 item 7 (a generator resuming in tail
/// position, a chain of handles whose clauses never resume), at a reduced
/// size, and the other effect cases run clean under valgrind memcheck in
/// the built executable: the resume requests, the reused argument list and
/// token, and the coroutines freed before their clause runs.
#[test]
fn effect_programs_are_memcheck_clean() {
    require_valgrind();
    assert_memcheck_clean(&["effects", "effects-one-shot", "effects-regions"], &[]);
    let tmp = tempfile::tempdir().unwrap();
    for (name, sizes, stdout) in [
        (
            "effects-generator",
            [("10000000", "1000"), ("1000001", "1001")],
            "done\n499500\n501\n(10 20)\n",
        ),
        (
            "effects-handler-chain",
            [
                ("(round 0 10000000)", "(round 0 100)"),
                ("(asks 0 100000 0)", "(asks 0 100 0)"),
            ],
            "100\n4950\n10\n(1 2 end)\n42\n",
        ),
    ] {
        let mut text = std::fs::read_to_string(cases_dir().join(format!("{name}.omni"))).unwrap();
        for (from, to) in sizes {
            assert!(text.contains(from), "{name}.omni contains {from}");
            text = text.replace(from, to);
        }
        let src = tmp.path().join(format!("{name}.omni"));
        std::fs::write(&src, text).unwrap();
        let exe = tmp.path().join(name);
        build_source(&src, &exe);
        let out = memcheck(name, &exe, &[], &[]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            stdout,
            "{name} under valgrind"
        );
    }
}

// ------------------------------------------------------------ symbols, perf map, call stacks

/// A program with a named function, a second function of the same name, an
/// anonymous `fn` and a prelude call (for the symbol and perf-map tests).
const NAMED_PROGRAM: &str = "(define fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n\
     (define twice [f x] (f (f x)))\n\
     (println (fib 20))\n\
     (println (twice (fn [x] (* x 3)) 2))\n\
     (println (map (fn [x] (+ x 1)) (list 1 2)))\n\
     (let [fib (fn [n] n)] (println (fib 5)))\n\
     (println (map fib (list 10)))\n\
     (println (apply twice (list (fn [x] x) 7)))\n";

/// `nm` on a built executable lists every compiled function under its
/// OmniLisp name (docs/ARCHITECTURE.md, "Symbols and call stacks").
#[test]
fn built_executable_symbols_are_omnilisp_names() {
    if Command::new("nm").arg("--version").output().is_err() {
        eprintln!("skipped: `nm` is not installed");
        return;
    }
    let (tmp, src) = temp_program(NAMED_PROGRAM);
    let exe = tmp.path().join("prog");
    build_source(&src, &exe);
    let out = Command::new("nm").arg(&exe).output().unwrap();
    assert!(out.status.success());
    let syms: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(String::from))
        .collect();
    let has = |s: &str| syms.iter().any(|x| x == s);
    // `fib` and `twice` are also used as values (the last two lines), so
    // their closures' `apply` entries exist; `std/filter` is never used,
    // so nothing of it is compiled (ir/dead_defs.rs).
    for want in ["omni.fib", "omni.fib$apply", "omni.twice", "omni.std/map"] {
        assert!(has(want), "nm lacks {want}: {syms:?}");
    }
    assert!(!has("omni.std/filter"), "{syms:?}");
    // Anonymous functions are named by their place.
    for at in ["4:17", "5:15", "8:29"] {
        let lambda = format!("omni.fn@{}:{at}", src.display());
        assert!(has(&lambda), "nm lacks {lambda}");
    }
    // The `fn` bound by `let` at 6:11 is inlined at its only call: its
    // closure is never built, and no code is compiled for it.
    let inlined = format!("omni.fn@{}:6:11", src.display());
    assert!(!has(&inlined), "{syms:?}");
    // The prelude has several local functions named `loop`.
    assert!(has("omni.std/loop") && has("omni.std/loop.2"), "{syms:?}");
    assert!(
        !syms.iter().any(|x| x
            .strip_prefix("omni_code_")
            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))),
        "numbered symbols left: {syms:?}"
    );
}

/// `OMNI_PERF_MAP=1 omnic run` writes `/tmp/perf-PID.map`: one
/// `START SIZE NAME` line (hex) per JIT function.
#[test]
fn perf_map_lists_jit_functions() {
    let (_tmp, src) = temp_program(NAMED_PROGRAM);
    let child = Command::new(omnic())
        .arg("run")
        .arg(&src)
        .env("OMNI_PERF_MAP", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "6765\n18\n(2 3)\n5\n(55)\n7\n"
    );
    let path = format!("/tmp/perf-{pid}.map");
    let text = std::fs::read_to_string(&path).expect("perf map written");
    let _ = std::fs::remove_file(&path);
    let mut names = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let start = u64::from_str_radix(parts.next().unwrap(), 16).expect(line);
        let size = u64::from_str_radix(parts.next().unwrap(), 16).expect(line);
        assert!(start > 0 && size > 0, "{line}");
        names.push(parts.next().expect(line).to_string());
    }
    for want in ["omni.fib", "omni.twice", "omni.std/map", "omni_entry"] {
        assert!(names.iter().any(|n| n == want), "perf map lacks {want}");
    }
}

/// Deep recursion reports a stack overflow with the first and last frames
/// of its call stack and the count of those left out, in both modes.
#[test]
fn stack_overflow_trace_elides_the_middle() {
    let (tmp, src) = temp_program("(define down [n] (+ 1 (down (+ n 1))))\n(println (down 0))\n");
    for (mode, mut cmd) in both_mode_commands(&src, tmp.path()) {
        let out = cmd.env("OMNI_STACK_SIZE", "4000000").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{mode}] {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines[0], "error: stack overflow", "[{mode}] {stderr}");
        let at = format!("{}:1:", src.display());
        assert!(
            lines[1].starts_with("  at down (") && lines[1].contains(&at),
            "[{mode}] {stderr}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("  ... (") && l.ends_with(" more frames)")),
            "[{mode}] {stderr}"
        );
        let last = lines.last().unwrap();
        assert_eq!(
            *last,
            format!("  at <top level> ({}:2:10)", src.display()),
            "[{mode}]"
        );
        assert!(lines.len() < 40, "[{mode}] {} lines", lines.len());
    }
}

/// A built executable carries a DWARF line table: `gdb` finds `inner` and
/// `outer` with their `.omni` file:line in the backtrace of a division by
/// zero (built with `OMNI_NO_INLINE=1`, so that they are functions of their
/// own; inlined, the top-level form's frame is at `inner`'s line);
/// `--strip` leaves the debug sections (and symbols) out.
#[test]
fn gdb_backtrace_shows_omni_lines() {
    if Command::new("gdb").arg("--version").output().is_err() {
        eprintln!("skipped: `gdb` is not installed");
        return;
    }
    let (tmp, src) = temp_program(
        "(define inner [x] (/ x 0))\n(define outer [x] (+ 1 (inner x)))\n(println (outer 5))\n",
    );
    let gdb_bt = |exe: &Path| {
        let out = Command::new("gdb")
            .args([
                "-batch",
                "-nx",
                "-ex",
                "break omni_prim_div2",
                "-ex",
                "run",
                "-ex",
                "bt",
            ])
            .arg(exe)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let file = src.display().to_string();
    let frame = |text: &str, name: &str, line: u32| {
        text.lines()
            .any(|l| l.contains(&format!(" {name} ")) && l.ends_with(&format!(" at {file}:{line}")))
    };
    let exe = tmp.path().join("prog");
    let no_inline = [("OMNI_NO_INLINE".to_string(), "1".to_string())];
    build_source_with(&src, &exe, Path::new("."), &no_inline);
    let text = gdb_bt(&exe);
    assert!(frame(&text, "omni.inner", 1), "gdb output:\n{text}");
    assert!(frame(&text, "omni.outer", 2), "gdb output:\n{text}");
    let inlined = tmp.path().join("inlined");
    build_source(&src, &inlined);
    let text = gdb_bt(&inlined);
    let top = format!("omni.toplevel@{file}:3:1");
    assert!(frame(&text, &top, 1), "gdb output:\n{text}");

    let stripped = tmp.path().join("stripped");
    let status = Command::new(omnic())
        .arg("build")
        .arg("--strip")
        .arg(&src)
        .arg("-o")
        .arg(&stripped)
        .status()
        .unwrap();
    assert!(status.success());
    if let Ok(out) = Command::new("readelf").arg("-S").arg(&stripped).output() {
        let sections = String::from_utf8_lossy(&out.stdout);
        assert!(!sections.contains(".debug_"), "{sections}");
    }
    // The call stack of a runtime error does not need the symbols.
    let out = Command::new(&stripped).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("  at inner ({file}:1:19)")),
        "{stderr}"
    );
}

/// `omnic build` keeps the symbols and the DWARF line table; `omnic build
/// --release` leaves both out (as `--strip` does), checked with `nm` and
/// `readelf --debug-dump=line`; the release executable still reports a
/// runtime error with its call stack.
#[test]
fn build_release_leaves_out_symbols_and_line_table() {
    if Command::new("nm").arg("--version").output().is_err()
        || Command::new("readelf").arg("--version").output().is_err()
    {
        eprintln!("skipped: `nm` or `readelf` is not installed");
        return;
    }
    let (tmp, src) = temp_program(
        "(define inner [x] (/ x 0))\n(define outer [x] (+ 1 (inner x)))\n(println (outer 5))\n",
    );
    let build = |exe: &Path, flags: &[&str]| {
        let out = Command::new(omnic())
            .arg("build")
            .args(flags)
            .arg(&src)
            .arg("-o")
            .arg(exe)
            .env("OMNI_NO_INLINE", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "build {flags:?}: {out:?}");
    };
    let tool = |name: &str, args: &[&str], exe: &Path| {
        let out = Command::new(name).args(args).arg(exe).output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let symbols = |exe: &Path| tool("nm", &[], exe);
    let lines = |exe: &Path| tool("readelf", &["--debug-dump=line"], exe);

    let debug = tmp.path().join("debug");
    build(&debug, &[]);
    let nm = symbols(&debug);
    assert!(
        nm.contains(" omni.inner\n") && nm.contains(" omni.outer\n"),
        "{nm}"
    );
    let table = lines(&debug);
    assert!(
        table.contains("prog.omni"),
        "no line table for prog.omni:\n{table}"
    );

    let release = tmp.path().join("release");
    build(&release, &["--release"]);
    let nm = symbols(&release);
    assert!(
        !nm.contains("omni.inner"),
        "symbols left in a release build:\n{nm}"
    );
    let table = lines(&release);
    assert!(
        !table.contains("prog.omni"),
        "line table left in a release build:\n{table}"
    );
    let sections = tool("readelf", &["-S"], &release);
    assert!(!sections.contains(".debug_"), "{sections}");

    let out = Command::new(&release).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = src.display().to_string();
    assert!(
        stderr.contains(&format!(
            "  at inner ({file}:1:19)\n  at outer ({file}:2:24)"
        )),
        "{stderr}"
    );
}

/// `--dump-expanded` prints the program after macro expansion: the names a
/// template introduced carry their mark, the user's names do not.
#[test]
fn dump_expanded_shows_marked_names() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("swap.omni");
    std::fs::write(
        &src,
        "(define [syntax swap!] [(swap! a b) (let [tmp a] (set! a b) (set! b tmp))])\n\
         (define x 1)\n\
         (define y 2)\n\
         (swap! x y)\n\
         (println (list x y))\n",
    )
    .unwrap();
    for cmd in ["run", "check"] {
        let out = Command::new(omnic())
            .arg(cmd)
            .arg("--dump-expanded")
            .arg(&src)
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let expanded = "(define x 1)\n\
                        (define y 2)\n\
                        (let#1 [tmp#1 x] (set!#1 x y) (set!#1 y tmp#1))\n\
                        (println (list x y))\n";
        assert!(stdout.starts_with(expanded), "{cmd}: {stdout}");
        if cmd == "run" {
            assert_eq!(&stdout[expanded.len()..], "(2 1)\n");
        }
    }
}

/// `(exit 3)` ends the program with status 3 after flushing stdout, in both
/// modes (the case format only knows statuses 0 and 1).
#[test]
fn exit_status_is_the_programs() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("exit3.omni");
    std::fs::write(
        &src,
        "(print \"partial line \")\n(println \"flushed\")\n(eprintln \"leaving with 3\")\n(exit 3)\n(println \"never printed\")\n",
    )
    .unwrap();
    let exe = tmp.path().join("exit3");
    let build = Command::new(omnic())
        .arg("build")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let jit = Command::new(omnic()).arg("run").arg(&src).output().unwrap();
    let native = Command::new(&exe).output().unwrap();
    for (mode, out) in [("run", jit), ("exe", native)] {
        assert_eq!(out.status.code(), Some(3), "[{mode}] {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "partial line flushed\n",
            "[{mode}]"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "leaving with 3\n",
            "[{mode}]"
        );
    }
}

/// A generated program of about `lines` lines (the shape of
/// benches/compile/gen.py, the compile-time benchmark): blocks of a struct,
/// a fold, a match, lets and a cond, a closure, calls between blocks, all
/// reachable from the output.
fn generated_program(lines: usize) -> String {
    const BLOCK_LINES: usize = 19;
    let blocks = (lines / BLOCK_LINES).max(1);
    let mut text = String::new();
    for i in 0..blocks {
        let prev = if i % 10 != 0 {
            format!("(run-{} (rem n 5))", i - 1)
        } else {
            i.to_string()
        };
        text.push_str(&format!(
            ";; block {i}\n\
             (define {{struct Item{i}}} [name] [count])\n\
             (define fold-{i} [acc xs]\n\
            \x20 (if (null? xs) acc (fold-{i} (+ acc (car xs)) (cdr xs))))\n\
             (define describe-{i} [v]\n\
            \x20 (match v\n\
            \x20   0 \"zero\"\n\
            \x20   [a b] (str \"pair \" a \" \" b)\n\
            \x20   (Item{i} n c) (str n \":\" c)\n\
            \x20   _ \"other\"))\n\
             (define step-{i} [n]\n\
            \x20 (let [a (* n 3)]\n\
            \x20   (let [b (+ a {i})] [s (str \"item-\" a)]\n\
            \x20     (cond [(< n 0) 0]\n\
            \x20           [(= (rem b 7) 0) (+ (string-length s) (fold-{i} 0 (list a b n)))]\n\
            \x20           [else (+ a (string-length (describe-{i} (Item{i} s n))))]))))\n\
             (define run-{i} [n]\n\
            \x20 (let [f (fn [x] (+ x (step-{i} x)))]\n\
            \x20   (+ (f n) {prev})))\n"
        ));
    }
    // Every block is live: `all` calls the last block of each chain of ten.
    let heads: Vec<String> = (0..blocks)
        .filter(|i| i % 10 == 9 || *i == blocks - 1)
        .map(|i| format!("(run-{i} n)"))
        .collect();
    let rows: Vec<String> = heads.chunks(8).map(|row| row.join(" ")).collect();
    text.push_str(&format!(
        "(define all [n]\n  (+ {}))\n\
         (define total [i acc]\n  (if (= i 20) acc (total (+ i 1) (+ acc (all i)))))\n\
         (println \"checksum \" (total 0 0))\n",
        rows.join("\n     ")
    ));
    text
}

/// `omnic check` of a generated 20,000-line program succeeds, and an error
/// on its last lines is reported at the right line and column (the line
/// index of `SourceMap`; no timing is asserted, the compile-time figures
/// are a benchmark: docs/BENCH_PROTOCOL.md).
#[test]
fn check_handles_a_20000_line_program() {
    let tmp = tempfile::tempdir().unwrap();
    let text = generated_program(20_000);
    let lines = text.lines().count();
    assert!(lines >= 19_900, "{lines} lines");
    let src = tmp.path().join("big.omni");
    std::fs::write(&src, &text).unwrap();
    let out = omnic_check(&src);
    assert!(out.status.success(), "{out:?}");

    let bad = format!("{text}(println \"tail\")\n  (undefined-at-the-end 1)\n");
    std::fs::write(&src, bad).unwrap();
    let out = omnic_check(&src);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unbound name `undefined-at-the-end`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("big.omni:{}:4", lines + 2)),
        "{stderr}"
    );
}

/// `omnic check` of a `cond` nested 20,000 levels deep (a chain of tail
/// `if`s), and of an arithmetic over value `if`s nested as deep, runs in
/// memory linear in the depth: the global-state pass kept a copy of its
/// per-path facts per level alive down the chain, 1.75 GB and 1.8 GB at
/// this depth (the second took 37 s; now 83 MB and 160 MB, under a second).
/// The peak comes from `OMNI_TIME_PASSES`, which ends with the compiler's
/// peak memory.
#[test]
fn deep_cond_checks_in_linear_memory() {
    let depth = 20_000;
    let tail_ifs: String = (0..depth)
        .map(|i| format!("  (if (= x {i}) {i}\n"))
        .chain([format!("  -1{})\n", ")".repeat(depth))])
        .collect();
    let value_ifs: String = (0..depth)
        .map(|i| format!("  (+ 1 (if (= x {i}) {i}\n"))
        .chain([format!("  -1{})\n", "))".repeat(depth))])
        .collect();
    for body in [tail_ifs, value_ifs] {
        let (_tmp, src) = temp_program(&format!("(define f [x]\n{body}(println (f 5))\n"));
        let out = Command::new(omnic())
            .arg("check")
            .arg(&src)
            .env("OMNI_TIME_PASSES", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let kb: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("omnic: peak memory "))
            .and_then(|rest| rest.trim_end_matches(" KB").parse().ok())
            .unwrap_or_else(|| panic!("no peak memory line in {stderr}"));
        assert!(kb < 400_000, "omnic check peaked at {kb} KB");
    }
}

/// A program that outgrows an address-space limit ends with `error: out of
/// memory` and status 1, its earlier output written — whichever allocation
/// the system refuses (a region chunk: the catchable error; any other
/// allocation of the runtime: the exit). It used to abort with SIGABRT and
/// lose the output (found by the fuzzer, which runs programs under
/// `ulimit -v`).
#[test]
fn running_out_of_memory_is_an_error_with_the_output_kept() {
    let (tmp, src) = temp_program(
        "(println \"before\")\n\
         (define grow [acc i] (if (= i 0) acc (grow (cons (make-array 100 i) acc) (- i 1))))\n\
         (println (length (grow '() 100000000)))\n",
    );
    let exe = tmp.path().join("prog");
    build_source(&src, &exe);
    let run = format!("exec {} run {}", omnic(), src.display());
    let built = format!("exec {}", exe.display());
    for (mode, command) in [("run", run), ("exe", built)] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v 400000; {command}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{mode}] {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "before\n", "[{mode}]");
        assert!(
            stderr.starts_with("error: out of memory"),
            "[{mode}] {stderr}"
        );
    }
}
/// Small known functions are inlined (`--dump-ir` shows no call of the
/// accessor); `--no-inline` and `OMNI_NO_INLINE=1` keep every call.
#[test]
fn no_inline_keeps_calls() {
    let (_tmp, src) = temp_program(
        "(define key [t] (array-ref t 1))\n(define f [t] (+ 1 (key t)))\n(println (f [0 41]))\n",
    );
    let dump = |args: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = Command::new(omnic());
        cmd.arg("check").arg("--dump-ir").args(args).arg(&src);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let f = text
            .split("\n\n")
            .find(|s| s.starts_with("fn ") && s.contains(" f [v0]"))
            .expect("f in the dump")
            .to_string();
        f.contains("<key>")
    };
    assert!(!dump(&[], None), "key is inlined into f");
    assert!(dump(&["--no-inline"], None), "--no-inline keeps the call");
    assert!(
        dump(&[], Some(("OMNI_NO_INLINE", "1"))),
        "OMNI_NO_INLINE=1 too"
    );
    assert!(!dump(&[], Some(("OMNI_NO_INLINE", "0"))), "0 leaves it on");
}

/// `omnic build` compiles functions on worker threads and defines them in
/// a fixed order: the executable is the same bytes for every thread count
/// (`OMNI_CODEGEN_THREADS`, 1 = no workers) and from run to run, and runs.
#[test]
fn build_is_the_same_on_any_number_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("gen.omni");
    std::fs::write(&src, generated_program(2_000)).unwrap();
    let build = |threads: &str| {
        let exe = tmp.path().join(format!("gen-{threads}"));
        let out = Command::new(omnic())
            .arg("build")
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .env("OMNI_CODEGEN_THREADS", threads)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        (std::fs::read(&exe).unwrap(), exe)
    };
    let (one, exe) = build("1");
    for threads in ["2", "3", "2", "8"] {
        assert!(build(threads).0 == one, "{threads} threads");
    }
    let out = Command::new(exe).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("checksum "));
}

/// A program of more than 512 functions has region inference's
/// per-function decisions made on several threads (ctrr::per_function):
/// those threads get the front end's large stack, so a deeply nested
/// function among many checks as with one thread (it overflowed a default
/// 2 MiB thread stack and aborted).
#[test]
fn deep_nesting_among_many_functions() {
    let tmp = tempfile::tempdir().unwrap();
    let depth = 8_000;
    let mut text: String = (0..600)
        .map(|i| format!("(define f{i} [x] (+ x {i}))\n"))
        .collect();
    text.push_str(&format!(
        "(define deep [x] {}1{})\n(println (deep 1) \" \" (f1 2))\n",
        "(if (< x 5) ".repeat(depth),
        " 0)".repeat(depth)
    ));
    let src = tmp.path().join("deep.omni");
    std::fs::write(&src, text).unwrap();
    let out = omnic_check(&src);
    assert!(out.status.success(), "{out:?}");
}
