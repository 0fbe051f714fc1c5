//! `omnic fmt` through the real binary: it is idempotent on every `.omni`
//! file of the repository, formatting never changes what a test program
//! prints or how it exits, `--check` lists the files that would change and
//! sets the exit status, stdin is formatted to stdout, and a file that does
//! not read gets the reader's error and is left untouched. (That the reader
//! sees the same data before and after, for every file, is checked in
//! process by the formatter's unit tests, `compiler/src/fmt/tests.rs`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Where `.omni` files live in the repository.
const SOURCE_DIRS: &[&str] = &["tests", "examples", "std", "benches", "core", "editors"];

/// Files the reader rejects on purpose (their test expects a read error):
/// `omnic fmt` must refuse them and leave them as they are.
const UNREADABLE: &[&str] = &[
    "tests/cases/err-bad-escape.omni",
    "tests/cases/err-syntax-several.omni",
    "tests/cases/err-unbalanced.omni",
    "tests/cases/imports/broken.omni",
    "tests/cases/invalid-utf8.omni",
    "tests/cases/nesting-limit.omni",
    "tests/cases/nul-in-symbol.omni",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

fn omnic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_omnic"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every `.omni` file of the repository, relative to its root, sorted.
fn omni_files() -> Vec<String> {
    let root = root();
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        walk(&root.join(dir), &mut files);
    }
    let mut rel: Vec<String> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "omni"))
        .map(|p| {
            p.strip_prefix(&root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    rel.sort();
    rel
}

fn readable(files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|f| !UNREADABLE.contains(&f.as_str()))
        .cloned()
        .collect()
}

/// Copies `files` (relative to the repository root) under `to`.
fn copy_files(files: &[String], to: &Path) {
    let root = root();
    for f in files {
        let dest = to.join(f);
        std::fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(root.join(f), &dest).expect("copy");
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_fmt(dir: &Path, args: &[&str], files: &[String]) -> Output {
    omnic()
        .arg("fmt")
        .args(args)
        .args(files)
        .current_dir(dir)
        .output()
        .expect("running omnic fmt")
}

#[test]
fn fmt_is_idempotent_on_every_omni_file_of_the_repository() {
    let all = omni_files();
    assert!(all.len() > 200, "only {} .omni files found", all.len());
    for f in UNREADABLE {
        assert!(all.iter().any(|a| a == f), "{f} is gone: update UNREADABLE");
    }
    let files = readable(&all);
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_files(&files, tmp.path());
    let first = run_fmt(tmp.path(), &[], &files);
    assert!(
        first.status.success(),
        "omnic fmt failed on a readable file:\n{}",
        text(&first.stderr)
    );
    let second = run_fmt(tmp.path(), &["--check"], &files);
    assert!(
        second.status.success() && second.stdout.is_empty(),
        "formatting again would change these files (not idempotent):\n{}{}",
        text(&second.stdout),
        text(&second.stderr)
    );
}

/// The project's own `.omni` files are formatted (CI's `omnic fmt --check`):
/// after editing one, run `omnic fmt FILE`.
#[test]
fn the_repository_is_formatted() {
    let files = readable(&omni_files());
    let check = run_fmt(&root(), &["--check"], &files);
    assert!(
        check.status.success() && check.stdout.is_empty(),
        "these files are not formatted (run `omnic fmt` on them):\n{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
}

#[test]
fn a_file_that_does_not_read_is_an_error_and_left_untouched() {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_files(
        &UNREADABLE.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        tmp.path(),
    );
    let bad = tmp.path().join("bad.omni");
    std::fs::write(&bad, "(define x 1)\n(define y   (+ 1 2)\n").expect("write");
    let out = run_fmt(tmp.path(), &[], &["bad.omni".to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unclosed `(`"), "{stderr}");
    assert!(stderr.contains("bad.omni:2:1"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "(define x 1)\n(define y   (+ 1 2)\n"
    );
    for f in UNREADABLE {
        let before = std::fs::read(tmp.path().join(f)).unwrap();
        let out = run_fmt(tmp.path(), &[], &[f.to_string()]);
        assert_eq!(out.status.code(), Some(1), "{f}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("Error"),
            "{f}: {}",
            text(&out.stderr)
        );
        assert_eq!(std::fs::read(tmp.path().join(f)).unwrap(), before, "{f}");
    }
    // The other files of the command are still formatted.
    std::fs::write(tmp.path().join("ok.omni"), "(a   b)").unwrap();
    let out = run_fmt(tmp.path(), &[], &["bad.omni".into(), "ok.omni".into()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("ok.omni")).unwrap(),
        "(a b)\n"
    );
}

#[test]
fn check_lists_the_files_that_would_change_and_sets_the_status() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let clean = "(define f [x]\n  ;; twice\n  (* 2 x))\n";
    let messy = "(define f [x]\n     ;; twice\n (* 2 x))   \n\n\n\n(f 1)";
    std::fs::write(tmp.path().join("clean.omni"), clean).unwrap();
    std::fs::write(tmp.path().join("messy.omni"), messy).unwrap();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let out = run_fmt(tmp.path(), &["--check"], &names(&["clean.omni"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());

    let out = run_fmt(
        tmp.path(),
        &["--check"],
        &names(&["clean.omni", "messy.omni"]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "messy.omni\n");
    // --check writes nothing.
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("messy.omni")).unwrap(),
        messy
    );

    let out = run_fmt(tmp.path(), &[], &names(&["clean.omni", "messy.omni"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("messy.omni")).unwrap(),
        "(define f [x]\n  ;; twice\n  (* 2 x))\n\n(f 1)\n"
    );
    let out = run_fmt(
        tmp.path(),
        &["--check"],
        &names(&["clean.omni", "messy.omni"]),
    );
    assert_eq!(out.status.code(), Some(0));
}

fn fmt_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = omnic()
        .arg("fmt")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn omnic fmt");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("omnic fmt")
}

#[test]
fn stdin_is_formatted_to_stdout() {
    for args in [&[][..], &["-"][..]] {
        let out = fmt_stdin(args, "(println   \"hi\" ; greet\n )");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "(println \"hi\" ; greet\n         )\n");
    }
    let out = fmt_stdin(&["--check", "-"], "(a  b)\n");
    assert_eq!(out.status.code(), Some(1));
    let out = fmt_stdin(&["--check"], "(a b)\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let out = fmt_stdin(&[], "(a \"b)\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unterminated string"));
    assert!(
        text(&out.stderr).contains("<stdin>:1:4"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

/// A test program's environment (`NAME.env`, `KEY=VALUE` lines).
fn case_env(dir: &Path, name: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(dir.join(format!("{name}.env")))
        .map(|e| {
            e.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn run_program(dir: &Path, name: &str, env: &[(String, String)]) -> Output {
    let scratch = tempfile::tempdir().expect("temp dir");
    omnic()
        .arg("run")
        .arg(format!("{name}.omni"))
        .current_dir(dir)
        .envs(env.iter().cloned())
        .env("OMNI_TEST_TMP", scratch.path())
        .stdin(Stdio::null())
        .output()
        .expect("omnic run")
}

/// Stderr without what formatting may move: source positions (`:LINE:COL`),
/// the source excerpts of compile errors (ariadne's framed lines), and the
/// `OMNI_STATS` byte counts and RSS (the program's location strings are
/// live data, so their size follows the file's path and line numbers; a
/// mere copy of a program elsewhere changes them). Every other statistic —
/// regions, transmigrations, merges, barrier repairs — must stay the same.
fn normalized_stderr(bytes: &[u8]) -> String {
    let text = text(bytes);
    let mut out = String::new();
    for line in text.lines() {
        if line.contains('│') || line.contains('─') {
            continue;
        }
        if line.starts_with("omni-stats: bytes_") || line.starts_with("omni-stats: peak_rss_kb") {
            continue;
        }
        let mut masked = String::new();
        let mut rest = line;
        while let Some(i) = rest.find(".omni:") {
            masked.push_str(&rest[..i + ".omni".len()]);
            rest = &rest[i + ".omni".len()..];
            let digits_end = rest[1..]
                .find(|c: char| !c.is_ascii_digit() && c != ':')
                .map_or(rest.len(), |j| j + 1);
            masked.push_str(":L:C");
            rest = &rest[digits_end..];
        }
        masked.push_str(rest);
        out.push_str(&masked);
        out.push('\n');
    }
    out
}

#[test]
fn formatting_never_changes_what_a_program_prints() {
    let started = Instant::now();
    let root = root();
    let cases = root.join("tests/cases");
    // The repository's programs are formatted already (the test above), so
    // formatting them again would run nothing new: every program is first
    // *scrambled* (`scramble`: each line's indentation changed, trailing
    // spaces added, outside strings and comments), and the scrambled
    // program is run before and after `omnic fmt`.
    let messy = tempfile::tempdir().expect("temp dir");
    let tidy = tempfile::tempdir().expect("temp dir");
    let mut all = Vec::new();
    walk(&cases, &mut all);
    let all: Vec<String> = all
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    copy_files(&all, messy.path());
    let omni: Vec<String> = readable(
        &all.iter()
            .filter(|f| f.ends_with(".omni"))
            .cloned()
            .collect::<Vec<_>>(),
    );
    for f in &omni {
        let path = messy.path().join(f);
        let src = std::fs::read_to_string(&path).expect("a case reads as UTF-8");
        std::fs::write(&path, scramble(&src)).unwrap();
    }
    copy_files_from(messy.path(), &all, tidy.path());
    let out = run_fmt(tidy.path(), &[], &omni);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (before_dir, after_dir) = (
        messy.path().join("tests/cases"),
        tidy.path().join("tests/cases"),
    );

    let mut names: Vec<String> = Vec::new();
    for f in &omni {
        let Some(name) = f
            .strip_prefix("tests/cases/")
            .and_then(|n| n.strip_suffix(".omni"))
        else {
            continue;
        };
        if name.contains('/') || !cases.join(format!("{name}.out")).exists() {
            continue;
        }
        names.push(name.to_string());
    }
    let total = names.len();
    assert!(total > 100, "only {total} programs with a .out");
    let scrambled = names
        .iter()
        .filter(|n| {
            let f = format!("tests/cases/{n}.omni");
            std::fs::read(messy.path().join(&f)).ok() != std::fs::read(tidy.path().join(&f)).ok()
        })
        .count();
    assert!(
        scrambled * 10 >= total * 9,
        "only {scrambled} of {total} scrambled programs were changed by formatting"
    );

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = names.get(i) else { break };
                let env = case_env(&cases, name);
                let before = run_program(&before_dir, name, &env);
                let after = run_program(&after_dir, name, &env);
                let mut problems = Vec::new();
                if before.stdout != after.stdout {
                    problems.push(format!(
                        "stdout differs:\n--- before\n{}\n--- after\n{}",
                        text(&before.stdout),
                        text(&after.stdout)
                    ));
                }
                if before.status.code() != after.status.code() {
                    problems.push(format!(
                        "exit status {:?} before, {:?} after",
                        before.status, after.status
                    ));
                }
                let (eb, ea) = (
                    normalized_stderr(&before.stderr),
                    normalized_stderr(&after.stderr),
                );
                if eb != ea {
                    problems.push(format!(
                        "stderr differs:\n--- before\n{eb}\n--- after\n{ea}"
                    ));
                }
                if !problems.is_empty() {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{name}: {}", problems.join("\n")));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "formatting changed a program's behaviour:\n{}",
        failures.join("\n\n")
    );
    eprintln!(
        "{total} scrambled programs ({scrambled} changed by formatting) run before and after in {:.1?}",
        started.elapsed()
    );
}

/// `src` with every line's indentation changed (lines alternately flush
/// left and indented by 7 columns more) and trailing spaces after most
/// lines, except where a line starts or ends inside a string or a comment
/// (whose text must not change): the same program, badly laid out. The
/// tree-sitter grammar (editors/tree-sitter-omnilisp, which reads exactly
/// what the reader reads) finds the strings and comments.
fn scramble(src: &str) -> String {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_omnilisp::LANGUAGE.into())
        .expect("the grammar loads");
    let tree = parser.parse(src, None).expect("the grammar parses");
    let mut keep: Vec<(usize, usize)> = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "string" | "comment" | "character") {
            keep.push((node.start_byte(), node.end_byte()));
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    // Whether byte `at` is inside a kept token or at its end (a line
    // comment runs to the end of its line).
    let within = |at: usize| keep.iter().any(|&(s, e)| s < at && at <= e);
    let mut out = String::with_capacity(src.len() * 2);
    let mut line_start = 0;
    for (i, line) in src.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        let end = line_start + body.len();
        let text = if within(line_start) || body.trim().is_empty() {
            body.to_string()
        } else if i % 2 == 0 {
            body[indent..].to_string()
        } else {
            format!("{}{}", " ".repeat(indent + 7), &body[indent..])
        };
        out.push_str(&text);
        if !within(end) && i % 3 != 2 {
            out.push_str("   ");
        }
        if line.ends_with('\n') {
            out.push('\n');
        }
        line_start += line.len();
    }
    out
}

/// Copy `files` (relative paths) from `from` into `to`.
fn copy_files_from(from: &Path, files: &[String], to: &Path) {
    for f in files {
        let dst = to.join(f);
        std::fs::create_dir_all(dst.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(from.join(f), &dst).expect("copy");
    }
}
