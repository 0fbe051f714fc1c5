//! Files, the environment and the process: `write-file append-file
//! file-exists? read-lines eprintln exit getenv current-time-ms random
//! random-seed!`.
//!
//! A failure of the operating system is an ordinary error (so `try` catches
//! it) whose message names the primitive, the path and the system's reason:
//! `read-lines: cannot open "x.txt": No such file or directory`.
//!
//! `random` draws from a per-thread xoshiro256** generator. Each thread's
//! generator starts seeded from the clock and the thread's identity;
//! `(random-seed! n)` reseeds the calling thread's generator (through
//! splitmix64), after which its sequence depends on `n` only — the same under
//! the JIT and in a built executable.

use super::{expected, int_arg, new_list, new_string, prim_fixed, prim_variadic, str_arg, R};
use crate::base::stdout::flush_stdout;
use crate::base::value::*;
use crate::region::Region;
use std::cell::Cell;
use std::io::Write;

/// The system's reason for an I/O failure, without Rust's "(os error N)".
pub fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn cannot(prim: &str, what: &str, path: &str, e: &std::io::Error) -> String {
    format!("{prim}: cannot {what} {path:?}: {}", os_reason(e))
}

/// Write (or, with `append`, add to the end of) the file at `path`.
fn write_text(prim: &str, path: Value, text: Value, append: bool) -> R {
    let p = str_arg(prim, path)?;
    let text = str_arg(prim, text)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append)
        .open(p);
    let mut file = file.map_err(|e| cannot(prim, "open", p, &e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| cannot(prim, "write", p, &e))?;
    Ok(NOTHING)
}

/// `(file-exists? path)`: true when `path` names an existing file or
/// directory.
pub fn file_exists(path: Value) -> R {
    let p = str_arg("file-exists?", path)?;
    Ok(make_bool(std::path::Path::new(p).exists()))
}

/// `(read-lines path)`: the file's lines as a list of strings, without
/// their `\n` / `\r\n` terminators (a last line without one counts too).
pub fn read_lines(r: *mut Region, path: Value) -> R {
    let p = str_arg("read-lines", path)?;
    let bytes = std::fs::read(p).map_err(|e| cannot("read-lines", "open", p, &e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("read-lines: cannot read {p:?}: not valid UTF-8"))?;
    let lines: Vec<Value> = text.lines().map(|l| new_string(r, l)).collect();
    Ok(new_list(r, &lines))
}

/// `(eprintln args...)`: like `println`, to stderr (stdout is flushed
/// first so the two streams keep the program's order).
pub fn eprintln(args: &[Value]) -> R {
    let text = super::io::display_all(args, true);
    flush_stdout();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
    Ok(NOTHING)
}

/// The exit status of `(exit code)`: an Int in 0..=255.
pub fn exit_status(code: Value) -> Result<i32, String> {
    let c = int_arg("exit", code)?;
    if (0..=255).contains(&c) {
        Ok(c as i32)
    } else {
        Err(format!("exit: status {c} is not in the range 0..255"))
    }
}

/// `(exit code)`: flush stdout, run the exit hooks and end the process.
fn exit(code: Value) -> R {
    let status = exit_status(code)?;
    crate::base::raise::run_exit_hooks();
    std::process::exit(status)
}

/// `(getenv name)`: the variable's value, or `nothing` when it is unset.
pub fn getenv(r: *mut Region, name: Value) -> R {
    let n = str_arg("getenv", name)?;
    if n.is_empty() || n.contains(['=', '\0']) {
        return Err(expected("getenv", "a variable name", name));
    }
    Ok(match std::env::var_os(n) {
        Some(v) => new_string(r, &v.to_string_lossy()),
        None => NOTHING,
    })
}

/// `(current-time-ms)`: milliseconds since the Unix epoch.
pub fn current_time_ms() -> R {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Ok(make_int(ms as i64))
}

// ------------------------------------------------------------------ random

/// splitmix64: expands one seed word into the generator's state.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A xoshiro256** generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xoshiro([u64; 4]);

impl Xoshiro {
    pub fn from_seed(seed: u64) -> Self {
        let mut x = seed;
        Xoshiro([
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ])
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, bound) (bound > 0), without modulo bias (Lemire).
    pub fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = (self.next_u64() as u128) * (bound as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

thread_local! {
    /// This thread's generator; `None` until first used or seeded.
    static RNG: Cell<Option<Xoshiro>> = const { Cell::new(None) };
}

/// A seed from the clock and the thread's identity.
fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    nanos ^ (&local as *const u8 as u64).rotate_left(32)
}

/// `(random n)`: an Int in [0, n); `n` must be a positive Int.
pub fn random(n: Value) -> R {
    let bound = int_arg("random", n)?;
    if bound <= 0 {
        return Err(format!("random: the bound must be positive, got {bound}"));
    }
    RNG.with(|cell| {
        let mut g = cell
            .get()
            .unwrap_or_else(|| Xoshiro::from_seed(clock_seed()));
        let x = g.below(bound as u64);
        cell.set(Some(g));
        Ok(make_int(x as i64))
    })
}

/// `(random-seed! n)`: reseed this thread's generator from the Int `n`.
pub fn random_seed(n: Value) -> R {
    let seed = int_arg("random-seed!", n)?;
    RNG.with(|cell| cell.set(Some(Xoshiro::from_seed(seed as u64))));
    Ok(NOTHING)
}

prim_fixed!(omni_prim_write_file(path, s) => |_, p, s| write_text("write-file", p, s, false));
prim_fixed!(omni_prim_append_file(path, s) => |_, p, s| write_text("append-file", p, s, true));
prim_fixed!(omni_prim_file_exists_p(path) => |_, p| file_exists(p));
prim_fixed!(omni_prim_read_lines(path) => read_lines);
prim_variadic!(omni_prim_eprintln => |_, args| eprintln(args));
prim_fixed!(omni_prim_exit(code) => |_, c| exit(c));
prim_fixed!(omni_prim_getenv(name) => getenv);
prim_fixed!(omni_prim_current_time_ms() => |_| current_time_ms());
prim_fixed!(omni_prim_random(n) => |_, n| random(n));
prim_fixed!(omni_prim_random_seed(n) => |_, n| random_seed(n));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::print::write_string;
    use crate::region::region_create;

    #[test]
    fn files_round_trip_and_failures_name_path_and_reason() {
        let r = region_create();
        let dir = std::env::temp_dir().join(format!(
            "omni-os-test-{}-{}",
            std::process::id(),
            int_value(current_time_ms().unwrap())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.txt");
        let p = new_string(r, path.to_str().unwrap());
        assert_eq!(file_exists(p).unwrap(), FALSE);
        write_text("write-file", p, new_string(r, "a\r\nb\n"), false).unwrap();
        write_text("append-file", p, new_string(r, "c"), true).unwrap();
        assert_eq!(file_exists(p).unwrap(), TRUE);
        assert_eq!(
            write_string(read_lines(r, p).unwrap()),
            "(\"a\" \"b\" \"c\")"
        );
        write_text("write-file", p, new_string(r, ""), false).unwrap();
        assert_eq!(read_lines(r, p).unwrap(), NIL);
        let missing = new_string(r, "no/such/dir/x.txt");
        assert_eq!(
            read_lines(r, missing).unwrap_err(),
            "read-lines: cannot open \"no/such/dir/x.txt\": No such file or directory"
        );
        let d = new_string(r, dir.to_str().unwrap());
        let err = write_text("write-file", d, new_string(r, "x"), false).unwrap_err();
        assert!(err.ends_with(": Is a directory"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn exit_status_range_and_getenv() {
        assert_eq!(exit_status(make_int(0)), Ok(0));
        assert_eq!(exit_status(make_int(255)), Ok(255));
        assert_eq!(
            exit_status(make_int(256)).unwrap_err(),
            "exit: status 256 is not in the range 0..255"
        );
        assert!(exit_status(make_int(-1)).is_err());
        let r = region_create();
        let unset = new_string(r, "OMNI_SURELY_UNSET_VARIABLE_42");
        assert_eq!(getenv(r, unset).unwrap(), NOTHING);
        assert!(getenv(r, new_string(r, "PATH")).is_ok());
        assert!(getenv(r, new_string(r, "A=B")).is_err());
    }

    #[test]
    fn random_is_in_range_and_reproducible_after_seeding() {
        let draw = |n| int_value(random(make_int(n)).unwrap());
        random_seed(make_int(42)).unwrap();
        let first: Vec<i64> = (0..20).map(|_| draw(1000)).collect();
        random_seed(make_int(42)).unwrap();
        let again: Vec<i64> = (0..20).map(|_| draw(1000)).collect();
        assert_eq!(first, again);
        assert!(first.iter().all(|&x| (0..1000).contains(&x)));
        assert!(first.iter().any(|&x| x != first[0]));
        assert_eq!(draw(1), 0);
        assert_eq!(
            random(make_int(0)).unwrap_err(),
            "random: the bound must be positive, got 0"
        );
        let mut g = Xoshiro::from_seed(7);
        let mut seen = [false; 6];
        for _ in 0..600 {
            seen[g.below(6) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        let big = int_value(random(make_int(INT_MAX)).unwrap());
        assert!((0..INT_MAX).contains(&big));
    }
}
