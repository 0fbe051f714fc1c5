//! `omnic.toml`, the project manifest `omnic build` reads when no file is
//! given. Only a small TOML subset is needed — `[section]` headers and
//! `key = "string"` / `key = integer` lines with `#` comments — so a tiny
//! reader here avoids a TOML dependency; unknown sections or keys and
//! malformed lines are errors (a typo must not be silently ignored).

use super::Fatal;
use std::collections::HashMap;

pub(crate) const MANIFEST_FILE: &str = "omnic.toml";

/// The settings `omnic build` uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Manifest {
    /// `[package] entry`: the program's main source file.
    pub entry: String,
    /// `[package] output`: executable name (default: the entry's file stem).
    pub output: Option<String>,
    /// `[build] opt_level`: Cranelift optimisation level.
    pub opt_level: String,
    /// `[ctrr] merge_threshold_bytes`: the store barrier's H0 merge
    /// threshold, compiled into the executable (None = runtime default).
    pub merge_threshold_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum TomlValue {
    Str(String),
    Int(i64),
}

/// The keys each section may hold.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    ("package", &["name", "version", "entry", "output"]),
    ("build", &["opt_level"]),
    ("ctrr", &["merge_threshold_bytes"]),
];

const OPT_LEVELS: &[&str] = &["none", "speed", "speed_and_size"];

pub(crate) fn parse(text: &str) -> Result<Manifest, Fatal> {
    let values = parse_toml_subset(text)?;
    let string = |section: &str, key: &str| -> Result<Option<String>, Fatal> {
        match values.get(&(section.to_string(), key.to_string())) {
            None => Ok(None),
            Some(TomlValue::Str(s)) => Ok(Some(s.clone())),
            Some(TomlValue::Int(_)) => Err(manifest_error(format!(
                "[{section}] {key} must be a string"
            ))),
        }
    };
    let entry = string("package", "entry")?
        .ok_or_else(|| manifest_error("[package] entry is missing".to_string()))?;
    let output = string("package", "output")?;
    let opt_level = string("build", "opt_level")?.unwrap_or_else(|| "speed".to_string());
    if !OPT_LEVELS.contains(&opt_level.as_str()) {
        return Err(manifest_error(format!(
            "[build] opt_level must be one of {}, not `{opt_level}`",
            OPT_LEVELS.join(", ")
        )));
    }
    // `[ctrr] merge_threshold_bytes`: compiled into the executable's start-up
    // code (runtime/src/barrier.rs, docs/REGION_DEPENDENCY_RULES.md).
    let merge_threshold_bytes =
        match values.get(&("ctrr".to_string(), "merge_threshold_bytes".to_string())) {
            None => None,
            Some(TomlValue::Int(n @ 0..)) => Some(*n as u64),
            Some(_) => {
                return Err(manifest_error(
                    "[ctrr] merge_threshold_bytes must be a non-negative integer".to_string(),
                ))
            }
        };
    Ok(Manifest {
        entry,
        output,
        opt_level,
        merge_threshold_bytes,
    })
}

fn manifest_error(message: String) -> Fatal {
    Fatal(format!("error: {MANIFEST_FILE}: {message}\n"))
}

fn parse_toml_subset(text: &str) -> Result<HashMap<(String, String), TomlValue>, Fatal> {
    let mut values = HashMap::new();
    let mut section: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        let error = |what: &str| manifest_error(format!("line {line_no}: {what}"));
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| error("unclosed `[`"))?
                .trim();
            if !KNOWN_KEYS.iter().any(|(s, _)| *s == name) {
                return Err(error(&format!("unknown section [{name}]")));
            }
            section = Some(name.to_string());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| error("expected `key = value`"))?;
        let key = key.trim();
        let current = section
            .as_deref()
            .ok_or_else(|| error("key outside a section"))?;
        let allowed = KNOWN_KEYS
            .iter()
            .find(|(s, _)| *s == current)
            .map(|(_, k)| *k)
            .unwrap_or(&[]);
        if !allowed.contains(&key) {
            return Err(error(&format!("unknown key `{key}` in [{current}]")));
        }
        let value = value.trim();
        let parsed = if let Some(body) = value.strip_prefix('"') {
            let body = body
                .strip_suffix('"')
                .ok_or_else(|| error("unterminated string"))?;
            if body.contains('"') || body.contains('\\') {
                return Err(error("escapes in strings are not supported"));
            }
            TomlValue::Str(body.to_string())
        } else {
            let digits: String = value.chars().filter(|c| *c != '_').collect();
            TomlValue::Int(
                digits
                    .parse()
                    .map_err(|_| error(&format!("bad value `{value}`")))?,
            )
        };
        values.insert((current.to_string(), key.to_string()), parsed);
    }
    Ok(values)
}

/// The line without a `#` comment (a `#` inside a string is kept).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_keys() {
        let m = parse(
            "# project\n[package]\nname = \"demo\"\nentry = \"src/main.omni\" # main\n\
             output = \"demo-bin\"\n\n[build]\nopt_level = \"none\"\n[ctrr]\nmerge_threshold_bytes = 4_096\n",
        )
        .unwrap();
        assert_eq!(m.entry, "src/main.omni");
        assert_eq!(m.output.as_deref(), Some("demo-bin"));
        assert_eq!(m.opt_level, "none");
        assert_eq!(m.merge_threshold_bytes, Some(4096));
    }

    #[test]
    fn defaults_and_errors() {
        let m = parse("[package]\nentry = \"a.omni\"\n").unwrap();
        assert_eq!((m.output, m.opt_level.as_str()), (None, "speed"));
        for bad in [
            "[package]\n",
            "[package]\nentry = a.omni\n",
            "[package]\nentri = \"a\"\n",
            "[nope]\n",
            "entry = \"a\"\n",
            "[package]\nentry = \"a\"\n[build]\nopt_level = \"fast\"\n",
            "[package]\nentry = \"a\"\n[ctrr]\nmerge_threshold_bytes = -1\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
