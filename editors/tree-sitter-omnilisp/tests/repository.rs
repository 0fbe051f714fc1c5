//! The grammar against real code: every `.omni` file of the repository
//! parses without an ERROR or MISSING node, the files the compiler's reader
//! rejects do produce one, the corpus tests (`test/corpus/*.txt`) hold
//! without the tree-sitter CLI, and the highlight query compiles.

use std::fs;
use std::path::{Path, PathBuf};
use tree_sitter::{Node, Parser, Query, Tree};

/// Where `.omni` files live in the repository.
const SOURCE_DIRS: &[&str] = &["tests", "examples", "std", "benches", "core", "editors"];

/// Files the compiler's reader deliberately rejects (a read or lex error
/// in the test's `.err`): the grammar must reject them too. (The reader
/// also rejects tests/cases/nesting-limit.omni, but only for nesting
/// deeper than the compiler's limit, which is not a question of syntax:
/// the grammar parses it like any other file.)
const UNREADABLE: &[(&str, &str)] = &[
    (
        "tests/cases/err-bad-escape.omni",
        "the unknown escape `\\q` in a string",
    ),
    (
        "tests/cases/invalid-utf8.omni",
        "a byte that is not UTF-8, in a comment",
    ),
    (
        "tests/cases/err-unbalanced.omni",
        "an unclosed `(` (err-unbalanced.err: unclosed)",
    ),
    (
        "tests/cases/err-syntax-several.omni",
        "a mismatched `]`, an unknown character name and a stray `)`",
    ),
    (
        "tests/cases/imports/broken.omni",
        "an unclosed `(`, read through err-import-syntax.omni",
    ),
    (
        "tests/cases/nul-in-symbol.omni",
        "a NUL control character inside a symbol",
    ),
];

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_omnilisp::LANGUAGE.into())
        .expect("the parser's ABI matches the tree-sitter crate");
    parser
}

fn parse(parser: &mut Parser, text: impl AsRef<[u8]>) -> Tree {
    parser
        .parse(text, None)
        .expect("parsing is never cancelled")
}

fn omni_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            omni_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "omni") {
            out.push(path);
        }
    }
}

/// The first ERROR or MISSING node, found without recursion (some test
/// files nest 100,000 levels deep).
fn first_error(tree: &Tree) -> Option<Node<'_>> {
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            return Some(node);
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

fn relative(path: &Path) -> String {
    let root = repository_root().canonicalize().expect("repository root");
    let path = path.canonicalize().expect("file path");
    path.strip_prefix(&root)
        .expect("under the root")
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn every_omni_file_of_the_repository_parses_without_errors() {
    let root = repository_root();
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        omni_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(
        files.len() > 200,
        "only {} .omni files found under {}",
        files.len(),
        root.display()
    );
    let mut parser = parser();
    let mut failures = Vec::new();
    let mut rejected = Vec::new();
    for file in &files {
        let name = relative(file);
        let text = fs::read(file).expect("readable source");
        let tree = parse(&mut parser, &text);
        let error = first_error(&tree).map(|n| n.start_position());
        match (UNREADABLE.iter().any(|(f, _)| *f == name), error) {
            (false, Some(at)) => failures.push(format!(
                "{name}:{}:{}: ERROR or MISSING node",
                at.row + 1,
                at.column + 1,
            )),
            (true, None) => failures.push(format!(
                "{name}: the reader rejects it but the grammar parses it"
            )),
            (true, Some(_)) => rejected.push(name),
            (false, None) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let mut expected: Vec<String> = UNREADABLE.iter().map(|(f, _)| f.to_string()).collect();
    expected.sort();
    rejected.sort();
    assert_eq!(rejected, expected, "every listed unreadable file exists");
}

/// One test of a corpus file: its name, whether it must contain an error
/// (`:error`), its input and the expected tree.
struct CorpusCase {
    name: String,
    error: bool,
    input: String,
    expected: String,
}

/// Reads the tree-sitter CLI's corpus format: a `===` header with the name
/// (and attributes such as `:error`), the input, a `---` line, the tree.
fn corpus_cases(text: &str) -> Vec<CorpusCase> {
    let is_rule = |line: &str, c: char| line.len() >= 3 && line.chars().all(|x| x == c);
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_rule(lines[i], '=') {
            i += 1;
            continue;
        }
        let mut name = String::new();
        let mut error = false;
        i += 1;
        while i < lines.len() && !is_rule(lines[i], '=') {
            match lines[i].trim() {
                ":error" => error = true,
                l if name.is_empty() => name = l.to_string(),
                _ => {}
            }
            i += 1;
        }
        i += 1;
        let start = i;
        while i < lines.len() && !is_rule(lines[i], '-') {
            i += 1;
        }
        let input = lines[start..i].join("\n").trim_matches('\n').to_string() + "\n";
        i += 1;
        let start = i;
        while i < lines.len() && !is_rule(lines[i], '=') {
            i += 1;
        }
        let expected = lines[start..i].join(" ");
        cases.push(CorpusCase {
            name,
            error,
            input,
            expected,
        });
    }
    cases
}

/// An S-expression with field names dropped and whitespace normalised, as
/// the CLI compares trees whose expected text names no fields.
fn normalise(sexp: &str) -> String {
    let mut words = Vec::new();
    for word in sexp.split_whitespace() {
        if !word.ends_with(':') {
            words.push(word);
        }
    }
    words.join(" ").replace("( ", "(").replace(" )", ")")
}

#[test]
fn the_corpus_tests_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test/corpus");
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).expect("test/corpus exists") {
        files.push(entry.expect("entry").path());
    }
    files.sort();
    let mut parser = parser();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in files {
        let text = fs::read_to_string(&file).expect("readable corpus file");
        for case in corpus_cases(&text) {
            count += 1;
            let tree = parse(&mut parser, &case.input);
            let root = tree.root_node();
            if case.error {
                if !root.has_error() {
                    failures.push(format!("{}: expected an error, got {}", case.name, root));
                }
            } else {
                let actual = normalise(&root.to_sexp());
                let expected = normalise(&case.expected);
                if actual != expected {
                    failures.push(format!(
                        "{}:\n  expected {expected}\n  actual   {actual}",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(count > 20, "only {count} corpus cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_highlight_query_compiles() {
    let language = tree_sitter_omnilisp::LANGUAGE.into();
    if let Err(e) = Query::new(&language, tree_sitter_omnilisp::HIGHLIGHTS_QUERY) {
        panic!("queries/highlights.scm: {e}");
    }
}

#[test]
fn node_types_name_every_visible_node() {
    for kind in [
        "list",
        "slot",
        "kind",
        "dict",
        "path",
        "symbol",
        "keyword",
        "metadata",
        "number",
        "string",
        "character",
        "boolean",
        "nothing",
        "comment",
        "block_comment",
    ] {
        assert!(
            tree_sitter_omnilisp::NODE_TYPES.contains(&format!("\"type\": \"{kind}\"")),
            "{kind} missing from node-types.json"
        );
    }
}

#[test]
fn bytes_that_are_not_utf8_are_errors() {
    let mut parser = parser();
    let sources: [&[u8]; 5] = [
        b"(define caf\xe9 1)\n",
        b"\"caf\xe9\"\n",
        b"; caf\xe9\n(a)\n",
        b"#| caf\xe9 |#\n",
        b"#\\\xe9\n",
    ];
    for src in sources {
        assert!(
            parse(&mut parser, src).root_node().has_error(),
            "{}",
            String::from_utf8_lossy(src)
        );
    }
}
