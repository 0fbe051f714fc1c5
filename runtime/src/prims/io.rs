//! Output and input primitives. Output goes through the runtime's one
//! buffered stdout (`base::stdout::write_stdout`), flushed at exit, before any stderr
//! output and before reading stdin. Each call formats its text completely
//! before appending it, so output of one call is never interleaved with an
//! error raised half-way.

use super::{new_list, new_string, prim_fixed, prim_variadic, R};
use crate::base::stdout::{flush_stdout, write_stdout};
use crate::base::value::*;
use crate::graph::print::{print_value, Mode};
use crate::region::Region;
use std::sync::OnceLock;

/// The display forms of `args`, concatenated (no separator), plus an
/// optional newline: the text `print`/`println` write.
pub fn display_all(args: &[Value], newline: bool) -> String {
    let mut s = String::new();
    for &v in args {
        print_value(&mut s, v, Mode::Display);
    }
    if newline {
        s.push('\n');
    }
    s
}

fn emit(text: String) -> R {
    write_stdout(&text);
    Ok(NOTHING)
}

/// `(read-line)`: the next line of stdin without its line terminator, or
/// `nothing` at end of input.
pub fn read_line(r: *mut Region) -> R {
    flush_stdout();
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) => Ok(NOTHING),
        Ok(_) => {
            if line.ends_with('\n') {
                line.pop();
                if line.ends_with('\r') {
                    line.pop();
                }
            }
            Ok(new_string(r, &line))
        }
        Err(e) => Err(format!("read-line: {e}")),
    }
}

/// `(read-file path)`: the whole file (UTF-8) as a string; a path relative
/// to the current directory. A failure names the path and the system's
/// reason, like the file primitives of `os.rs`.
pub fn read_file(r: *mut Region, path: Value) -> R {
    let p = super::str_arg("read-file", path)?;
    let bytes = std::fs::read(p)
        .map_err(|e| format!("read-file: cannot open {p:?}: {}", super::os::os_reason(&e)))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(new_string(r, &text)),
        Err(_) => Err(format!("read-file: cannot read {p:?}: not valid UTF-8")),
    }
}

/// `(command-line-args)`: the program's arguments (after the program name)
/// as a list of strings.
pub fn args_list(r: *mut Region) -> R {
    let items: Vec<Value> = command_line_args()
        .iter()
        .skip(1)
        .map(|a| new_string(r, a))
        .collect();
    Ok(new_list(r, &items))
}

prim_variadic!(omni_prim_print => |_, args| emit(display_all(args, false)));
prim_variadic!(omni_prim_println => |_, args| emit(display_all(args, true)));
prim_fixed!(omni_prim_display(v) => |_, v| emit(display_all(&[v], false)));
prim_fixed!(omni_prim_write(v) => |_, v| emit(crate::graph::print::write_string(v)));
prim_fixed!(omni_prim_newline() => |_| emit("\n".to_owned()));
prim_fixed!(omni_prim_read_line() => read_line);
prim_fixed!(omni_prim_read_file(path) => read_file);
prim_fixed!(omni_prim_command_line_args() => args_list);

// The command-line arguments live here, beside their one reader
// (`command-line-args`); start-up (`rt::entry`) records them.
static ARGS: OnceLock<Vec<String>> = OnceLock::new();

/// The program's command-line arguments as recorded by `omni_rt_main`
/// (empty under the JIT unless set with [`set_command_line_args`]).
pub fn command_line_args() -> &'static [String] {
    ARGS.get().map(|v| v.as_slice()).unwrap_or(&[])
}

/// Record the command-line arguments (first call wins).
pub fn set_command_line_args(args: Vec<String>) {
    let _ = ARGS.set(args);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::object::intern;
    use crate::region::region_create;

    #[test]
    fn println_text() {
        let r = region_create();
        let s = new_string(r, "caught: ");
        assert_eq!(
            display_all(&[s, make_int(5), intern("done")], true),
            "caught: 5done\n"
        );
        assert_eq!(display_all(&[], true), "\n");
        assert_eq!(display_all(&[make_char('x'), NOTHING], false), "xnothing");
    }
}
