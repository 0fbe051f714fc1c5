//! `omnic repl` driven through piped stdin (LANGUAGE.md §7, docs/LANGUAGE.md
//! "The REPL"): the exact transcript of a session, Ctrl-C interrupting a
//! running form, and the global state staying bounded across forms.

use std::io::Write;
use std::process::{Command, Stdio};

#[path = "support/stats.rs"]
mod stats;

fn omnic() -> &'static str {
    env!("CARGO_BIN_EXE_omnic")
}

/// The session: define a function, call it, redefine it, call again, a
/// multi-line form, a compile error, a runtime error (with its call stack
/// through functions of earlier forms), a correct form, `:dump-ctrr`,
/// `:load`, a struct redefined, `:quit` (the form after it never runs).
const SESSION: &str = r#"(define f [x] (* x 10))
(f 4)
(define f [x] (* x 100))
(f 4)
(define pair-up [a b]
  (list a
        (f b)))
(pair-up 1 2)
(f "x" "y")
(pair-up 1 "s")
(+ 1 2)
:dump-ctrr (list 1 (f 2))
:load lib.omni
(square 9)
(define {struct Point} [x] [y])
(define p (Point 1 2))
p
(define {struct Point} [x] [y] [z])
(type? p Point)
(Point 1 2 3)
(println "bye")
:quit
(println "not reached")
"#;

const LIB: &str = r#"(define square [x] (* x x))
(println "lib loaded")
"#;

const STDOUT: &str = r#"40
400
(1 200)
3
function toplevel (top-level form) at repl:10:1:1
  result region: global (top level)
  summary: no input must outlive the result region; allocates nothing in the result region
  scope region v4: function body at repl:10:1:1, created on entry
  alloc Cons at repl:10:1:1 -> local(v4): does not outlive the call: local scope region
  call at repl:10:1:9 -> result into local(v4): result used only within the call: local scope region
  region-exit at repl:10:1:1 (after the last use of v2)
  global state: may renew it (stores into it, or calls what does); 0 pin(s), 0 escape hold(s), 0 safe point(s), 1 refresh(es)
  tethers: none (no inserted repair releases a region on overwrite)
    fn toplevel [] nfree=0 (TopLevel) {
      state-pins
      v4 = region-create
      v0 = global-get f (checked)
      v1 = call unknown v0 (2) into local(v4)
      state-refresh v1
      v2 = alloc cons v1 () in local(v4)
      v3 = alloc cons 1 v2 in local(v4)
      region-exit v4
      state-unpin
      return nothing
    }

lib loaded
81
(Point 1 2)
false
(Point 1 2 3)
bye
"#;

const STDERR: &str = r#"Error: wrong number of arguments to `f`: it takes 1 argument, this call passes 2
   ╭─[ repl:7:1:2 ]
   │
 1 │ (f "x" "y")
   │  ┬  
   │  ╰── `f` called with 2 here
───╯
error: *: expected a number, got "s"
  at f (repl:3:1:15)
  at pair-up (repl:5:3:9)
  at <top level> (repl:8:1:1)
"#;

/// Run `omnic repl` in `dir` with `input` on stdin and `env`.
fn repl(dir: &std::path::Path, input: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut child = Command::new(omnic())
        .arg("repl")
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn repl_session_transcript() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.omni"), LIB).unwrap();
    let out = repl(dir.path(), SESSION, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), STDOUT);
    assert_eq!(String::from_utf8_lossy(&out.stderr), STDERR);
}

/// `:help` lists the commands; an unknown command and a missing file are
/// reported and the session goes on; end of input leaves like `:quit`.
#[test]
fn repl_commands_and_end_of_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = repl(
        dir.path(),
        ":help\n:nope\n:load missing.omni\n(+ 1 2)\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for command in [":help", ":quit", ":load FILE", ":dump-ctrr FORM"] {
        assert!(stdout.contains(command), "{stdout}");
    }
    assert!(stdout.ends_with("3\n"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: unknown command :nope"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: cannot read missing.omni"),
        "{stderr}"
    );
}

/// Ctrl-C (SIGINT) interrupts a running form, which reports `interrupted`
/// with its call stack; the next form runs.
#[test]
fn repl_interrupt_returns_to_the_prompt() {
    let mut child = Command::new(omnic())
        .arg("repl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"(define spin [n] (if (< n 0) n (spin (+ n 1))))\n(spin 0)\n")
        .unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    stdin.write_all(b"(+ 40 2)\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: interrupted\n  at spin (repl:1:"),
        "{stderr}"
    );
}

/// A global overwritten many times, by a loop form run again and again in
/// the session: the global state is renewed as in a file run (renewals
/// grow with the work) and the regions' peak does not grow with the number
/// of forms run.
#[test]
fn repl_global_state_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let session = |runs: usize| {
        let mut input = String::from(
            "(define g '())\n(define d (dict))\n\
             (define churn [i] (when (> i 0) (set! g (list i i i)) \
             (dict-set! d 'k (list i i i)) (churn (- i 1))))\n",
        );
        for _ in 0..runs {
            input.push_str("(churn 100000)\n");
        }
        input.push_str("g\n");
        let out = repl(dir.path(), &input, &[("OMNI_STATS", "1")]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "(1 1 1)\n");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let stat = |key: &str| -> u64 {
            stats::stat(&stderr, key).unwrap_or_else(|| panic!("no {key} in\n{stderr}"))
        };
        (stat("renewals"), stat("bytes_regions_peak"))
    };
    let (renewals_few, peak_few) = session(2);
    let (renewals_many, peak_many) = session(20);
    assert!(renewals_few > 0, "the state was never renewed");
    assert!(
        renewals_many >= 9 * renewals_few,
        "renewals {renewals_few} -> {renewals_many}"
    );
    assert!(
        peak_many * 4 <= peak_few * 5,
        "bytes_regions_peak grew from {peak_few} to {peak_many}"
    );
}

/// An uncaught error in a spawned thread is reported with the thread's
/// call stack and name, as in a file run, but ends only that thread: the
/// session goes on with its globals, a `join` of the failed thread is an
/// error of the joining form, and later threads run.
#[test]
fn repl_thread_error_keeps_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let input = "(define inner [x] (/ x 0))\n\
                 (define middle [x] (+ 1 (inner x)))\n\
                 (define keep 42)\n\
                 (define t (spawn (fn [] (middle 7))))\n\
                 (join t)\n\
                 keep\n\
                 (println (join (spawn (fn [] (middle 1)))))\n\
                 (join (spawn (fn [] (+ keep 1))))\n";
    let out = repl(dir.path(), input, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n43\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: division by zero\n  at inner (repl:1:1:19)\n  at middle (repl:2:1:25)\n  \
         in thread omni-thread-1\n\
         error: join: thread 1 ended with an error (reported above)\n  \
         at <top level> (repl:5:1:1)\n\
         error: division by zero\n  at inner (repl:1:1:19)\n  at middle (repl:2:1:25)\n  \
         in thread omni-thread-2\n\
         error: join: thread 2 ended with an error (reported above)\n  \
         at <top level> (repl:7:1:10)\n"
    );
}

/// A long session stays bounded: the code of a form that defines nothing
/// and builds no closure is freed once it ran, so 1,000 more such forms
/// add little to the peak RSS (each module used to be kept, with a copy of
/// the session's whole location table: about 60 KB a form). A closure an
/// expression form stores (`set!`) keeps its module: it is still called
/// correctly at the end.
#[test]
fn repl_session_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let session = |forms: usize| {
        let mut input = String::from("(define g nothing)\n(set! g (fn [x] (* x 3)))\n");
        for i in 0..forms {
            input.push_str(&format!("(+ {i} (length (list \"s\" 1.5 'q)))\n"));
        }
        input.push_str("(g 14)\n");
        let out = repl(dir.path(), &input, &[("OMNI_STATS", "1")]);
        assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            stdout.ends_with(&format!("{}\n42\n", forms + 2)),
            "{stdout}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let stat = |key: &str| -> u64 {
            stats::stat(&stderr, key).unwrap_or_else(|| panic!("no {key} in\n{stderr}"))
        };
        (
            stat("peak_rss_kb"),
            stat("repl_modules_kept"),
            stat("repl_modules_freed"),
        )
    };
    let (rss_few, kept_few, freed_few) = session(20);
    let (rss_many, kept_many, freed_many) = session(1020);
    // The prelude's module, `define g` and the `set!` that stores a closure.
    assert_eq!((kept_few, kept_many), (3, 3));
    assert_eq!((freed_few, freed_many), (21, 1021));
    // 1,000 forms: at most 8 MB more (kept modules took about 60 MB).
    assert!(
        rss_many <= rss_few + 8 * 1024,
        "peak RSS grew from {rss_few} KB to {rss_many} KB over 1,000 forms"
    );
}
