//! The fuzzing gate (R9): mutates the `.omni` files of tests/ and examples/
//! and runs `omnic check` on each mutant, then `omnic run` (stdin closed) on
//! those that check clean, each under a time limit. A panic ("internal
//! compiler error", "panicked"), a signal or a time-out is a failure: the
//! reproducer is written under the cargo target's temp dir and its path
//! printed. docs/FUZZING.md describes the mutations and the long-run mode
//! (`OMNI_FUZZ_SEED`, `OMNI_FUZZ_COUNT`, `OMNI_FUZZ_TIMEOUT_SECS`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn corpus() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["tests/cases", "tests/ctrr", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("omni"))
            .collect();
        paths.sort();
        files.extend(paths.iter().filter_map(|p| std::fs::read(p).ok()));
    }
    assert!(files.len() > 10, "no corpus found under {}", root.display());
    files
}

/// Byte ranges of the tokens of `src`, roughly: runs of non-space,
/// non-bracket bytes, and each bracket alone.
fn tokens(src: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b"()[]{}".contains(&b) {
            out.push((i, i + 1));
            i += 1;
        } else {
            let start = i;
            while i < src.len() && !src[i].is_ascii_whitespace() && !b"()[]{}".contains(&src[i]) {
                i += 1;
            }
            out.push((start, i));
        }
    }
    out
}

const BRACKETS: &[u8] = b"()[]{}";

/// One random mutation of `src` (`other` is a second corpus file to splice).
fn mutate(rng: &mut Rng, src: &[u8], other: &[u8]) -> Vec<u8> {
    let mut s = src.to_vec();
    let toks = tokens(&s);
    let at = rng.below(s.len() + 1);
    match rng.below(12) {
        0 if !s.is_empty() => {
            let i = rng.below(s.len());
            s[i] ^= 1 << rng.below(8);
        }
        1 if !toks.is_empty() => {
            let (a, b) = toks[rng.below(toks.len())];
            s.drain(a..b);
        }
        2 if !toks.is_empty() => {
            let (a, b) = toks[rng.below(toks.len())];
            let t = s[a..b].to_vec();
            s.splice(b..b, [b" ".as_slice(), &t].concat());
        }
        3 if toks.len() > 1 => {
            let (mut x, mut y) = (toks[rng.below(toks.len())], toks[rng.below(toks.len())]);
            if x.0 > y.0 {
                std::mem::swap(&mut x, &mut y);
            }
            if x.1 <= y.0 {
                let (tx, ty) = (s[x.0..x.1].to_vec(), s[y.0..y.1].to_vec());
                s.splice(y.0..y.1, tx);
                s.splice(x.0..x.1, ty);
            }
        }
        4 => s.insert(at, BRACKETS[rng.below(BRACKETS.len())]),
        5 => {
            let brackets: Vec<usize> = (0..s.len()).filter(|&i| BRACKETS.contains(&s[i])).collect();
            if !brackets.is_empty() {
                s.remove(brackets[rng.below(brackets.len())]);
            }
        }
        6 => {
            let cut = rng.below(other.len() + 1);
            s.truncate(at);
            s.extend_from_slice(&other[cut..]);
        }
        7 => {
            const BAD: &[&[u8]] = &[
                b"\xff",
                b"\xc3",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\x80",
            ];
            s.splice(at..at, BAD[rng.below(BAD.len())].iter().copied());
        }
        8 => {
            const CONTROL: &[u8] = &[0, 1, 0x1b, 0x7f, 0x0b];
            s.insert(at, CONTROL[rng.below(CONTROL.len())]);
        }
        9 => {
            // Deep nesting around a token: up to the documented limit and
            // one beyond it. Data nesting (quoted) is what the front end
            // must take; deep *code* is listed in docs/FUZZING.md.
            let depth = [1_000, 10_000, 100_000, 100_001][rng.below(4)];
            let (open, close): (&[u8], &[u8]) = match rng.below(3) {
                0 => (b"(", b")"),
                1 => (b"[", b"]"),
                _ => (b"{", b"}"),
            };
            let mut wrapped = b"(quote ".to_vec();
            wrapped.extend(open.repeat(depth));
            wrapped.extend(close.repeat(depth));
            wrapped.push(b')');
            s.splice(at..at, wrapped);
        }
        10 => {
            let n = [1_000, 100_000, 1_000_000][rng.below(3)];
            let huge: Vec<u8> = match rng.below(4) {
                0 => b"x".repeat(n),
                1 => b"9".repeat(n),
                2 => [b"\"".as_slice(), &b"s".repeat(n), b"\""].concat(),
                _ => [b"1.".as_slice(), &b"5".repeat(n), b"e3"].concat(),
            };
            s.splice(at..at, [b" ".as_slice(), &huge, b" "].concat());
        }
        _ => {
            let byte = rng.next() as u8;
            s.insert(at, byte);
        }
    }
    s
}

/// What one `omnic` invocation did.
enum Outcome {
    Clean,
    Rejected,
    Failure(String),
}

/// `program` run in `dir` under an address-space cap of `cap_kb` (through
/// `sh -c ulimit`), with a 64 MiB stack for programs, stdin and stdout
/// closed; the caller adds arguments and decides about stderr.
fn capped(cap_kb: u64, program: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {cap_kb}; exec \"$0\" \"$@\""))
        .arg(program)
        .current_dir(dir)
        .env("OMNI_STACK_SIZE", "67108864")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

fn run_omnic(args: &[&str], file: &Path, dir: &Path, limit: Duration) -> Outcome {
    let omnic = std::env::var("OMNI_FUZZ_OMNIC")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_omnic").to_string());
    // Memory is capped so that a mutant asking for a huge allocation cannot
    // take the machine down; the compiler's stack reservation falls back to
    // a smaller size under the cap. A run gets 2 GB: a mutant that allocates
    // without end (a valid program) then stops with the runtime's `out of
    // memory` error within the time limit instead of filling 8 GB first.
    let cap_kb = if args[0] == "run" {
        2_000_000
    } else {
        8_000_000
    };
    let mut child = capped(cap_kb, Path::new(&omnic), dir)
        .args(args)
        .arg(file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning omnic");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.by_ref().take(64 << 10).read_to_end(&mut text);
        // Drain the rest so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&text).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for omnic") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = reader.join().unwrap_or_default();
    let what = args[0];
    let Some(status) = status else {
        return Outcome::Failure(format!("{what}: time-out after {limit:?}"));
    };
    if let Some(at) = stderr
        .lines()
        .position(|l| l.contains("internal compiler error") || l.contains("panicked"))
    {
        let lines: Vec<&str> = stderr.lines().skip(at).take(2).collect();
        let mut class = lines.join(" | ");
        class.truncate(300);
        return Outcome::Failure(format!("{what}: {class}"));
    }
    match status.code() {
        None | Some(134) | Some(139) => Outcome::Failure(format!(
            "{what}: killed by a signal ({status}); {}",
            stderr
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        )),
        Some(0) => Outcome::Clean,
        Some(_) => Outcome::Rejected,
    }
}

/// A mutant whose `omnic run` timed out may be a valid program that loops
/// or waits forever (a changed loop bound, a `recv` nobody sends to). Build
/// it, run the executable, and look at where its threads are with `gdb`
/// (three samples, 300 ms apart): generated code (`omni.` symbols) at the
/// innermost frame of some thread means the program is running its own
/// loop; a blocking primitive (`recv`, `send`, `join`, a read)
/// near the top of every waiting stack means it waits as written. Anything
/// else — every sample inside the runtime or the compiler, or no sample —
/// is a hang (`Err`, with the innermost functions seen).
fn triage_run_timeout(file: &Path, dir: &Path, limit: Duration) -> Result<String, String> {
    let exe = dir.join("mutant-exe");
    let _ = std::fs::remove_file(&exe);
    match run_omnic(&["build", "-o", exe.to_str().unwrap()], file, dir, limit) {
        Outcome::Clean => {}
        Outcome::Rejected => return Err("time-out; the build was rejected".into()),
        Outcome::Failure(f) => return Err(format!("time-out; then {f}")),
    }
    let mut child = capped(2_000_000, &exe, dir)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning the built mutant");
    std::thread::sleep(Duration::from_millis(500));
    let mut seen: Vec<String> = Vec::new();
    let mut verdict: Option<String> = None;
    let mut in_runtime: Option<RuntimeCall> = None;
    for _ in 0..3 {
        if let Ok(Some(_)) = child.try_wait() {
            verdict = Some("time-out under the JIT, but the executable ended".into());
            break;
        }
        let out = Command::new("gdb")
            .args(["-batch", "-nx", "-p", &child.id().to_string()])
            .args(["-ex", "thread apply all bt 40"])
            .stdin(Stdio::null())
            .output();
        let Ok(out) = out else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("time-out (gdb is not installed to triage it)".into());
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let errs = String::from_utf8_lossy(&out.stderr);
        if !text.contains("#0 ") && errs.contains("ptrace") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("time-out ({GDB_CANNOT_ATTACH})"));
        }
        match classify_stacks(&text, &mut seen) {
            Sample::Verdict(why) => {
                verdict = Some(why);
                break;
            }
            Sample::InRuntime(call) => in_runtime = Some(call),
            Sample::Unknown => {}
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    // Every sample was inside the runtime. Called from generated code, the
    // call may be one of many the program's loop makes (a `length` of a
    // list that grows each iteration takes nearly all the time): it is a
    // hang only if that call does not return.
    if let (None, Some(call)) = (&verdict, in_runtime) {
        if runtime_call_returns(child.id(), &call, Duration::from_secs(10)) {
            verdict = Some(format!(
                "running its own code ({}), its time in {}",
                call.caller, call.callee
            ));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    verdict.ok_or_else(|| {
        seen.sort();
        seen.dedup();
        format!("hang: innermost frames {}", seen.join(", "))
    })
}

/// A call from generated code into the runtime, seen in a `gdb` sample.
#[derive(Debug, PartialEq)]
struct RuntimeCall {
    /// gdb's number of the thread.
    thread: u32,
    /// The runtime function generated code called, and the caller.
    callee: String,
    caller: String,
}

/// Whether the runtime call `call` made returns within `within`: `gdb`
/// selects the innermost frame of the generated caller, goes one frame in
/// (the runtime function it called, whatever the thread runs by now) and
/// `finish`es it. Tried twice: the thread may have left the caller between
/// the sample and the attach.
fn runtime_call_returns(pid: u32, call: &RuntimeCall, within: Duration) -> bool {
    (0..2).any(|_| {
        let out = Command::new("timeout")
            .arg(within.as_secs().max(1).to_string())
            .args(["gdb", "-batch", "-nx", "-p", &pid.to_string()])
            .args(["-ex", &format!("thread {}", call.thread)])
            .args(["-ex", &format!("frame function {}", call.caller)])
            .args(["-ex", "down", "-ex", "finish"])
            .stdin(Stdio::null())
            .output();
        let Ok(out) = out else { return false };
        finish_shows_generated_code(
            out.status.success(),
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
        )
    })
}

/// What `runtime_call_returns`' gdb said: when the call returns, gdb names
/// where it stopped — the generated caller — on a line of its own (the
/// frames it lists first start with `#`); a call that does not return is
/// cut off by the limit. And when gdb attached, the thread may already
/// have been back in generated code (the loop runs on between two
/// samples): the caller is then the innermost frame and `down` fails —
/// the program running its own code too (a fuzz run called a loop of
/// `(+ 1)`, a runtime call per iteration, a hang for that reason).
fn finish_shows_generated_code(success: bool, stdout: &str, stderr: &str) -> bool {
    let in_generated = |l: &str| l.starts_with("omni.") || l.contains(" in omni.");
    let returned = success
        && stdout
            .lines()
            .any(|l| !l.starts_with('#') && in_generated(l));
    let innermost = stderr.contains("Bottom (innermost) frame selected")
        && stdout
            .lines()
            .any(|l| l.starts_with("#0 ") && in_generated(l));
    returned || innermost
}

/// Why a time-out could not be triaged on this machine (no ptrace).
const GDB_CANNOT_ATTACH: &str = "gdb cannot attach here to triage it";

/// What one `gdb` sample (`thread apply all bt`) says.
#[derive(Debug, PartialEq)]
enum Sample {
    /// The program is running its own code or waiting in a blocking
    /// primitive.
    Verdict(String),
    /// No thread runs generated code; one is inside a runtime function that
    /// generated code called.
    InRuntime(RuntimeCall),
    /// Every thread is inside the runtime, none called from generated code.
    Unknown,
}

/// Classify one `gdb` sample; the innermost function of each thread that
/// gives no verdict is added to `seen`.
fn classify_stacks(bt: &str, seen: &mut Vec<String>) -> Sample {
    const BLOCKING: [&str; 4] = [
        "omni_prim_recv",
        "omni_prim_send",
        "omni_prim_join",
        "omni_prim_read_line",
    ];
    // Split into threads: each starts at its `#0` line, after a
    // `Thread N (...)` header naming gdb's number for it.
    let mut threads: Vec<(u32, Vec<&str>)> = Vec::new();
    let mut number = 1;
    for line in bt.lines() {
        if let Some(rest) = line.strip_prefix("Thread ") {
            number = rest
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(number);
        }
        if !line.starts_with('#') {
            continue;
        }
        if line.starts_with("#0 ") {
            threads.push((number, Vec::new()));
        }
        if let Some((_, t)) = threads.last_mut() {
            t.push(line);
        }
    }
    let function = |frame: &str| -> String {
        // `#0  0x... in NAME (args) at ...` or `#0  NAME (args) at ...`
        let rest = frame.split_once(" in ").map(|(_, r)| r).unwrap_or_else(|| {
            frame
                .trim_start_matches(|c: char| c == '#' || c.is_ascii_digit())
                .trim_start()
        });
        rest.split([' ', '(']).next().unwrap_or("").to_string()
    };
    let mut call = None;
    for (number, t) in &threads {
        let top = function(t[0]);
        if top.starts_with("omni.") {
            return Sample::Verdict(format!("running its own code ({top})"));
        }
        if let Some(b) = t
            .iter()
            .map(|f| function(f))
            .find(|f| BLOCKING.iter().any(|b| f.starts_with(b)))
        {
            return Sample::Verdict(format!("waiting in {b}"));
        }
        if let Some(level) = t.iter().position(|f| function(f).starts_with("omni.")) {
            call.get_or_insert(RuntimeCall {
                thread: *number,
                callee: function(t[level - 1]),
                caller: function(t[level]),
            });
        }
        seen.push(top);
    }
    call.map_or(Sample::Unknown, Sample::InRuntime)
}

#[test]
fn triage_reads_gdb_finish() {
    let returned = "Run till exit from #0  0x56 in omni_prim_add ()\n\
                    0x56 in omni.in-set.2 () at a.omni:12\n12\t(in-set ...)\n";
    assert!(finish_shows_generated_code(true, returned, ""));
    // Attached while back in generated code: `down` has nowhere to go.
    let innermost = "#0  0x56 in omni.in-set.2 () at a.omni:12\n12\t(in-set ...)\n";
    let bottom = "Bottom (innermost) frame selected; you cannot go down.\n";
    assert!(finish_shows_generated_code(false, innermost, bottom));
    // Cut off by the time limit inside the runtime: no verdict.
    let stuck = "#0  0x56 in omni_runtime::prims::misc::equal_rec ()\n";
    assert!(!finish_shows_generated_code(false, stuck, ""));
    assert!(!finish_shows_generated_code(false, stuck, bottom));
}

#[test]
fn triage_tells_a_program_loop_from_a_hang() {
    let bt_loop = "#0  0x00005555 in omni.loop ()\n#1  0x00005556 in omni.main ()\n";
    let bt_wait = "#0  0x7fff in syscall () from libc.so.6\n#1  0x5555 in std::thread::park ()\n\
                   #2  0x5555 in omni_prim_recv ()\n#3  0x5555 in omni.toplevel@a.omni:1:1 ()\n";
    let bt_hang =
        "#0  0x5555 in omni_runtime::prims::misc::equal_rec ()\n#1  0x5555 in omni_prim_equal ()\n";
    let bt_call = "Thread 2 (Thread 0x7f (LWP 9) \"omni-main\"):\n\
                   #0  0x5555 in omni_runtime::prims::list::list_length ()\n\
                   #1  0x5555 in omni_prim_length ()\n#2  0x5555 in omni.grow.2 () at a.omni:7\n\
                   \nThread 1 (Thread 0x7e (LWP 8) \"m\"):\n#0  0x7fff in __futex_abstimed_wait_common64 ()\n";
    let mut seen = Vec::new();
    assert!(matches!(
        classify_stacks(bt_loop, &mut seen),
        Sample::Verdict(_)
    ));
    assert!(matches!(
        classify_stacks(bt_wait, &mut seen),
        Sample::Verdict(_)
    ));
    assert_eq!(classify_stacks(bt_hang, &mut seen), Sample::Unknown);
    assert_eq!(seen, ["omni_runtime::prims::misc::equal_rec"]);
    assert_eq!(
        classify_stacks(bt_call, &mut seen),
        Sample::InRuntime(RuntimeCall {
            thread: 2,
            callee: "omni_prim_length".into(),
            caller: "omni.grow.2".into(),
        })
    );
    // A real one: an endless loop and a wait on a channel nobody sends to,
    // each built and sampled.
    if Command::new("gdb").arg("--version").output().is_err() {
        eprintln!("skipped the live part: gdb is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (src, want) in [
        (
            "(define spin [n] (spin (+ n 1)))\n(spin 0)\n",
            "running its own code (omni.spin)",
        ),
        ("(println (recv (chan)))\n", "waiting in omni_prim_recv"),
        // A loop whose time goes to a primitive: every sample is in
        // `length` (or, first, in `range`), but each call returns.
        (
            "(define big (range 3000000))\n(define spin [n] (spin (+ n (length big))))\n(spin 0)\n",
            "running its own code (omni.",
        ),
    ] {
        let file = dir.path().join("m.omni");
        std::fs::write(&file, src).unwrap();
        let got = triage_run_timeout(&file, dir.path(), Duration::from_secs(30));
        if matches!(&got, Err(e) if e.contains(GDB_CANNOT_ATTACH)) {
            eprintln!("skipped the live part: {GDB_CANNOT_ATTACH}");
            return;
        }
        let primitive_time = src.contains("length");
        assert!(
            got.as_deref().is_ok_and(|g| if primitive_time {
                g.starts_with(want) && g.contains(", its time in omni_prim_")
            } else {
                g == want
            }),
            "{src}: {got:?}"
        );
    }
    // A runtime call that does not return is not taken for a loop.
    let file = dir.path().join("w.omni");
    std::fs::write(
        &file,
        "(define wait [c] (recv c) (wait c))\n(wait (chan))\n",
    )
    .unwrap();
    let exe = dir.path().join("w-exe");
    let built = run_omnic(
        &["build", "-o", exe.to_str().unwrap()],
        &file,
        dir.path(),
        Duration::from_secs(30),
    );
    assert!(matches!(built, Outcome::Clean));
    let mut child = capped(2_000_000, &exe, dir.path()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let call = RuntimeCall {
        thread: 2,
        callee: "omni_prim_recv".into(),
        caller: "omni.wait".into(),
    };
    let returned = runtime_call_returns(child.id(), &call, Duration::from_secs(2));
    let _ = child.kill();
    let _ = child.wait();
    assert!(!returned, "a receive nobody sends to returned");
}

#[test]
fn fuzz_the_front_end_and_runs() {
    let seed: u64 = env_or("OMNI_FUZZ_SEED", 0x5EED_0F0E_u64);
    // `OMNI_FUZZ_REPLAY=DIR`: the inputs are the `.omni` files of DIR (the
    // reproducers of an earlier run), checked as mutants are.
    let replay: Option<Vec<Vec<u8>>> = std::env::var("OMNI_FUZZ_REPLAY").ok().map(|dir| {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the replay directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "omni"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read(p).expect("a replayed input"))
            .collect()
    });
    let count: usize = match &replay {
        Some(inputs) => inputs.len(),
        None => env_or("OMNI_FUZZ_COUNT", 400),
    };
    let limit = Duration::from_secs(env_or("OMNI_FUZZ_TIMEOUT_SECS", 10));
    let files = corpus();
    let work = tempfile::tempdir().expect("temp dir");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let mut rng = Rng(seed | 1);
    // Failure class → (occurrences, reproducer path).
    let mut failures: BTreeMap<String, (usize, PathBuf)> = BTreeMap::new();
    let (mut clean, mut ran) = (0usize, 0usize);
    // Run time-outs the triage found to be the program's own endless loop or
    // wait (reported, not failures).
    let mut program_waits: Vec<String> = Vec::new();
    let started = std::time::Instant::now();
    for n in 0..count {
        // A long run says how far it is, so a stuck or slow run shows.
        if n > 0 && n % 5000 == 0 {
            eprintln!(
                "fuzz: {n} of {count} inputs, {} failure classes, {:.0} s",
                failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let mutant = match &replay {
            Some(inputs) => inputs[n].clone(),
            None => {
                let src = &files[rng.below(files.len())];
                let other = &files[rng.below(files.len())];
                let mut mutant = mutate(&mut rng, src, other);
                if rng.below(3) == 0 {
                    mutant = mutate(&mut rng, &mutant, other);
                }
                mutant
            }
        };
        let file = work.path().join("mutant.omni");
        std::fs::write(&file, &mutant).expect("writing the mutant");
        let mut outcome = run_omnic(&["check"], &file, work.path(), limit);
        if matches!(outcome, Outcome::Clean) {
            clean += 1;
            ran += 1;
            outcome = run_omnic(&["run"], &file, work.path(), limit);
            if matches!(&outcome, Outcome::Failure(c) if c.starts_with("run: time-out")) {
                outcome = match triage_run_timeout(&file, work.path(), limit) {
                    Ok(why) => {
                        program_waits.push(why);
                        Outcome::Clean
                    }
                    Err(hang) => Outcome::Failure(format!("run: {hang}")),
                };
            }
        }
        if let Outcome::Failure(class) = outcome {
            let entry = failures.entry(class.clone()).or_insert_with(|| {
                std::fs::create_dir_all(&out_dir).expect("creating the failure dir");
                let path = out_dir.join(format!("seed{seed:x}-input{n}.omni"));
                std::fs::write(&path, &mutant).expect("writing the reproducer");
                eprintln!("fuzz failure: {class}\n  reproducer: {}", path.display());
                (0, path)
            });
            entry.0 += 1;
        }
    }
    eprintln!(
        "fuzz: seed {seed:#x}, {count} inputs, {clean} checked clean, {ran} run, {} failure classes, \
         {} run time-outs triaged as the program's own loop or wait",
        failures.len(),
        program_waits.len()
    );
    for why in &program_waits {
        eprintln!("  triaged: {why}");
    }
    let report: Vec<String> = failures
        .iter()
        .map(|(class, (times, path))| format!("{times}× {class}\n  reproducer: {}", path.display()))
        .collect();
    assert!(report.is_empty(), "fuzz failures:\n{}", report.join("\n"));
}
