//! The formatter's unit tests: the style rules one by one, comments kept,
//! every reader form printed as written, idempotence, and — for every
//! `.omni` file of the repository — the reader seeing the same data before
//! and after formatting.

use super::*;
use crate::syntax::{Datum, DatumKind, PathSeg};
use std::path::{Path, PathBuf};

fn fmt(src: &str) -> String {
    let once = format_source(src).unwrap_or_else(|e| panic!("{e:?}\n{src}"));
    let twice = format_source(&once).unwrap_or_else(|e| panic!("{e:?}\n{once}"));
    assert_eq!(once, twice, "not idempotent on:\n{src}");
    once
}

/// `src` is already formatted.
fn stable(src: &str) {
    assert_eq!(fmt(src), src);
}

#[test]
fn a_form_that_fits_stays_on_one_line() {
    assert_eq!(fmt("(a  b\t c)"), "(a b c)\n");
    assert_eq!(
        fmt("(define  f [x]   (* x   x))"),
        "(define f [x] (* x x))\n"
    );
    assert_eq!(fmt("[ 1 2 ]  { Int }"), "[1 2] {Int}\n");
}

#[test]
fn a_long_define_puts_its_body_on_the_next_lines() {
    let long = format!("(define f [x] (g {} x))", "a ".repeat(45).trim_end());
    assert_eq!(
        fmt(&long),
        format!("(define f [x]\n  (g {} x))\n", "a ".repeat(45).trim_end())
    );
    stable("(define reverse [xs]\n  (define loop [xs acc]\n    (loop xs acc))\n  (loop xs '()))\n");
    stable("(define add [x {Int}] [y {Int}] {Int}\n  (+ x y))\n");
    // The author's line breaks are kept; the indentation is the style's.
    assert_eq!(
        fmt("(define f [x]\n        (g x)\n (h x))"),
        "(define f [x]\n  (g x)\n  (h x))\n"
    );
}

#[test]
fn calls_align_their_arguments_under_the_first() {
    stable("(if (null? xs)\n    (error \"empty\")\n    (car xs))\n");
    assert_eq!(
        fmt("(merge (msort a)\n  (msort b)\n '())"),
        "(merge (msort a)\n       (msort b)\n       '())\n"
    );
    // Written on one line and too long: arguments fill lines, aligned.
    let args: Vec<String> = (0..30).map(|i| format!("a{i}")).collect();
    let out = fmt(&format!("(println {})", args.join(" ")));
    assert!(out.lines().all(|l| l.len() <= WIDTH), "{out}");
    for l in out.lines().skip(1) {
        assert!(l.starts_with("         a"), "{out}");
    }
    // A first argument that only fits on the next line goes there, indented 2.
    let inner = format!("(list {})", "x ".repeat(45).trim_end());
    assert_eq!(
        fmt(&format!("(println {inner})")),
        format!("(println\n  {inner})\n")
    );
}

#[test]
fn cond_and_match_clauses_one_per_line() {
    let cond = "(cond [(null? xs) acc] [(pred (car xs)) (loop (cdr xs) (cons (car xs) acc))] [else (loop (cdr xs) acc)])";
    assert_eq!(
        fmt(cond),
        "(cond [(null? xs) acc]\n      [(pred (car xs)) (loop (cdr xs) (cons (car xs) acc))]\n      [else (loop (cdr xs) acc)])\n"
    );
    stable("(cond [(null? xs) acc]\n      [else 1])\n");
    let m = "(match v 0 \"zero\" [a b .. r] (list a b r) (Point x y) (+ x y) _ \"some other thing altogether, and long\")";
    assert_eq!(
        fmt(m),
        "(match v\n  0 \"zero\"\n  [a b .. r] (list a b r)\n  (Point x y) (+ x y)\n  _ \"some other thing altogether, and long\")\n"
    );
    // The author's alignment of results is kept.
    stable(
        "(match v\n  0           \"zero\"\n  [a b .. r]  (list a b r)\n  _           \"other\")\n",
    );
    // A result the author put under its pattern is indented 2 more.
    assert_eq!(
        fmt("(match v\n  [a b]\n            (+ a b))"),
        "(match v\n  [a b]\n    (+ a b))\n"
    );
}

#[test]
fn let_bindings_one_per_line_when_they_do_not_fit() {
    stable("(let [x 1] [y 2]\n  (+ x y))\n");
    let long = format!(
        "(let [a (f {0})] [b (g {0})] (+ a b))",
        "xxxxxxxxxx ".repeat(4).trim_end()
    );
    let out = fmt(&long);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("(let [a (f"), "{out}");
    assert!(lines[1].starts_with("     [b (g"), "{out}");
    assert_eq!(lines[2], "  (+ a b))");
    // `^:seq` stays with the first binding; the others align under it.
    stable("(let ^:seq [n 0]\n           [m (+ n 1)]\n  (list n m))\n");
}

#[test]
fn body_forms_indent_their_body_two() {
    stable("(when (< i n)\n  (push! out i)\n  (loop (+ i 1)))\n");
    stable("(fn [x]\n  (display x)\n  x)\n");
    stable("(module geometry (export area Circle)\n  (define helper [x] (* x x)))\n");
    stable("(handle (+ 1 (perform ask nothing))\n  (ask [payload resume] (resume 41)))\n");
    stable("(define {mutable-struct Body}\n  [x {Float}] [y {Float}])\n");
    stable("(define [syntax swap!]\n  [(swap! a b) (let [tmp a] (set! a b) (set! b tmp))])\n");
    stable("(do (f (car xs))\n    (for-each f (cdr xs)))\n");
    // Handler clauses of `handle` are body forms too.
    stable("(handle (gen 0 n)\n  (yield [v k]\n    (push! out v)\n    (k nothing)))\n");
    // A Scheme-style binding list stays on the let's line.
    stable("(let ((x 1) (y 2))\n  (+ x y))\n");
}

#[test]
fn a_broken_if_puts_then_and_else_on_their_own_lines() {
    let long = format!(
        "(if (= n 0) count (do (step {}) (loop (- n 1))))",
        "x ".repeat(33).trim_end()
    );
    assert_eq!(
        fmt(&long),
        format!(
            "(if (= n 0)\n    count\n    (do (step {}) (loop (- n 1))))\n",
            "x ".repeat(33).trim_end()
        )
    );
}

#[test]
fn comments_are_kept_in_place() {
    stable(";;; header\n\n;; about f\n(define f [x] ; the parameter\n  ;; the body\n  (* x x)) ; after\n");
    stable("(a #| block |# b)\n");
    stable("#| a\n   multi-line\n  block |#\n(a)\n");
    stable("(list 1 #_ 2 3)\n");
    stable("(list 1 #_2 3)\n");
    stable("#_#_ a b\n");
    // A comment before a closer keeps the closer on the next line.
    assert_eq!(fmt("(f x\n   ;; last\n)"), "(f x\n   ;; last\n   )\n");
    // A comment between a prefix and its datum.
    assert_eq!(fmt("' ; why\n    x"), "' ; why\n x\n");
    // Trailing whitespace in comments is removed.
    assert_eq!(fmt("(a) ; c   \n"), "(a) ; c\n");
    // Comment alignment the author wrote is kept.
    stable("(a)      ; one\n(bb)     ; two\n");
}

#[test]
fn blank_lines_and_the_end_of_the_file() {
    assert_eq!(fmt("\n\n(a)\n\n\n\n(b)\n(c)   \n\n\n"), "(a)\n\n(b)\n(c)\n");
    assert_eq!(
        fmt("(define f [x]\n\n\n  (a)\n\n  (b))"),
        "(define f [x]\n\n  (a)\n\n  (b))\n"
    );
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("; only a comment"), "; only a comment\n");
    // Forms the author wrote on one line stay there when they fit.
    stable("(write (f 1)) (newline)\n");
}

#[test]
fn every_reader_form_is_printed_as_written() {
    stable("(display \"a\\n\\t\\\\\\\"\\u{3bb}\" \"multi\nline\")\n");
    stable("(list #\\a #\\space #\\newline #\\( #\\) #\\x41 #\\λ)\n");
    stable("(list 1_000_000 0xff -7 +7 2. 1e-9 -0.5 2.5E3)\n");
    stable("#{:name \"Al\" :age 3}\n");
    stable("(define ^:parent {Shape} {struct Circle} [r {Float}])\n");
    stable("(define limit {(Array Int)} 100)\n");
    stable("(println p.name xs.[i] a.b.[(+ i 1)].c (f x).r)\n");
    stable("(list 'x `(a ,b ,@c) :k '() '[1 2] (quote x))\n");
    stable("(list true false nothing .. & ...)\n");
    // `, @x` must not become `,@x`.
    stable("`(a , @x)\n");
    assert_eq!(fmt("( quote  x )"), "(quote x)\n");
    assert_eq!(fmt("' x"), "'x\n");
}

#[test]
fn long_atoms_stay_where_they_are() {
    let s = format!("(println \"{}\")", "x".repeat(120));
    assert_eq!(fmt(&s), format!("{s}\n"));
}

#[test]
fn a_read_error_is_reported_not_formatted() {
    match format_source("(define x (+ 1 2)") {
        Err(FmtError::Read(e)) => assert!(e.message.contains("unclosed"), "{}", e.message),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        format_source("(a \"\\q\")"),
        Err(FmtError::Read(_))
    ));
    assert!(matches!(format_source("(a]"), Err(FmtError::Read(_))));
}

#[test]
fn deep_nesting_is_formatted() {
    let depth = 2_000;
    let src = format!("{}x{}", "(f ".repeat(depth), ")".repeat(depth));
    // Run on a big stack, like the driver does.
    let out = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || format_source(&src).map(|o| o.len()))
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    assert!(out > depth * 4);
}

#[test]
fn indentation_stops_growing_at_max_indent() {
    let depth = 300;
    let src = format!("{}x{}", "(list 1 ".repeat(depth), ")".repeat(depth));
    let out = fmt(&src);
    // Linear in the depth, not quadratic.
    assert!(out.len() < depth * (MAX_INDENT + 20), "{} bytes", out.len());
    let widest = out.lines().map(|l| l.len() - l.trim_start().len()).max();
    assert_eq!(widest, Some(MAX_INDENT));
}

/// The datum without its spans, printed with its structure visible.
fn shape(d: &Datum, out: &mut String) {
    let seq = |out: &mut String, tag: &str, xs: &[Datum]| {
        out.push_str(tag);
        out.push('(');
        for x in xs {
            shape(x, out);
            out.push(' ');
        }
        out.push(')');
    };
    match &d.kind {
        DatumKind::List(xs) => seq(out, "L", xs),
        DatumKind::Slot(xs) => seq(out, "S", xs),
        DatumKind::Kind(xs) => seq(out, "K", xs),
        DatumKind::Dict(xs) => seq(out, "D", xs),
        DatumKind::Path(base, segs) => {
            out.push_str("P(");
            shape(base, out);
            for s in segs {
                match s {
                    PathSeg::Field(f, _) => out.push_str(&format!(" .{f}")),
                    PathSeg::Index(i) => {
                        out.push_str(" .[");
                        shape(i, out);
                        out.push(']');
                    }
                }
            }
            out.push(')');
        }
        DatumKind::Str(s) => out.push_str(&format!("{s:?}")),
        DatumKind::Float(x) => out.push_str(&format!("F{:?}", x.to_bits())),
        other => out.push_str(&format!("{other:?}")),
    }
}

fn data_of(src: &str) -> String {
    let data = read_program(src, 0).expect("reads");
    let mut out = String::new();
    for d in &data {
        shape(d, &mut out);
        out.push('\n');
    }
    out
}

/// `src` with the whitespace between its tokens replaced: a single space
/// (seed 0), or a pseudo-random mix of spaces, line breaks and blank lines.
/// Gaps holding comments stay as they are; touching tokens stay touching.
fn rewhitespaced(src: &str, seed: u64) -> String {
    let toks = crate::syntax::lexer::tokenize(src).expect("lexes");
    let mut out = String::new();
    let mut last = 0;
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for (start, _, end) in toks {
        let gap = &src[last..start];
        if gap.is_empty() || gap.contains(';') || gap.contains("#|") {
            out.push_str(gap);
        } else if seed == 0 {
            out.push(' ');
        } else {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.push_str(match (state >> 33) % 7 {
                0 => "\n",
                1 => "\n\n\n   ",
                2 => "    ",
                _ => " ",
            });
        }
        out.push_str(&src[start..end]);
        last = end;
    }
    out.push_str(&src[last..]);
    out
}

fn omni_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            omni_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "omni") {
            out.push(path);
        }
    }
}

/// For every `.omni` file of the repository that reads: formatting is
/// idempotent, and the reader sees the same data (ignoring spans) before
/// and after. Files that do not read must be refused.
#[test]
fn every_repository_file_reads_to_the_same_data_after_formatting() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["tests", "examples", "std", "benches", "core", "editors"] {
        omni_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 200, "only {} files", files.len());
    let report = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let mut problems = Vec::new();
            let mut refused = 0;
            for f in &files {
                let bytes = std::fs::read(f).expect("read");
                let Ok(src) = String::from_utf8(bytes) else {
                    refused += 1;
                    continue;
                };
                if read_program(&src, 0).is_err() {
                    assert!(matches!(format_source(&src), Err(FmtError::Read(_))));
                    refused += 1;
                    continue;
                }
                let once = match format_source(&src) {
                    Ok(o) => o,
                    Err(e) => {
                        problems.push(format!("{}: {e:?}", f.display()));
                        continue;
                    }
                };
                if data_of(&src) != data_of(&once) {
                    problems.push(format!("{}: the data changed", f.display()));
                }
                if format_source(&once).ok().as_deref() != Some(once.as_str()) {
                    problems.push(format!("{}: not idempotent", f.display()));
                }
                if once.lines().any(|l| l.ends_with(' ') || l.ends_with('\t')) {
                    problems.push(format!("{}: trailing whitespace", f.display()));
                }
                // The same program written differently: on as few lines as
                // its comments allow, and with line breaks strewn about.
                for seed in [0, 1, 7] {
                    let variant = rewhitespaced(&src, seed);
                    let Ok(v1) = format_source(&variant) else {
                        problems.push(format!("{} (variant {seed}): refused", f.display()));
                        continue;
                    };
                    if data_of(&v1) != data_of(&src) {
                        problems.push(format!(
                            "{} (variant {seed}): the data changed",
                            f.display()
                        ));
                    }
                    if format_source(&v1).ok().as_deref() != Some(v1.as_str()) {
                        problems.push(format!("{} (variant {seed}): not idempotent", f.display()));
                    }
                }
            }
            (problems, refused)
        })
        .unwrap()
        .join()
        .unwrap();
    let (problems, refused) = report;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The files whose test expects a read error (see compiler/tests/fmt.rs).
    assert_eq!(refused, 7);
}
