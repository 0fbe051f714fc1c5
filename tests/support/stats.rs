//! Reading `OMNI_STATS=1` output in tests: the value of
//! `omni-stats: KEY=V` in a program's stderr.

/// The value of `omni-stats: KEY=V` in a stderr text.
pub fn stat(stderr: &str, key: &str) -> Option<u64> {
    let prefix = format!("omni-stats: {key}=");
    stderr
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}
