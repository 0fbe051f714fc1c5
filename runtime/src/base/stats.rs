//! Runtime statistics: process-wide counters of the memory system, printed at
//! exit when `OMNI_STATS=1` (one `omni-stats: key=value` line per counter on
//! stderr).
//!
//! Counting must not slow the hot paths (region create/exit is a ~10 ns
//! operation), so each thread counts into plain thread-local cells and adds
//! them to the process-wide atomics when it exits; `snapshot` adds the calling
//! thread's unflushed cells. The gauges (live regions, live bytes) are exact
//! for a single mutator thread; with several threads the peak is the largest
//! "flushed total + one thread's own peak" seen, an estimate documented in
//! `docs/REGION_ACCOUNTING.md`. Under `cfg(loom)` everything goes straight to
//! the atomics (loom runs its threads on one OS thread).

use crate::base::atomics::{PublishedPtr, StatCounter};

/// A monotonically increasing event counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    RegionsCreated,
    RegionsReclaimed,
    BytesAllocated,
    ChunksAllocated,
    Transmigrations,
    TransmigratedObjects,
    TransmigratedBytes,
    Merges,
    MergedChunks,
    BarrierCalls,
    BarrierRepairs,
    Tethers,
    ExternalRetains,
    ExternalReleases,
    /// Renewals of a long-lived region (a loop's carry region): its live
    /// graph copied into a fresh region and the old one released.
    Renewals,
    /// Bytes copied by renewals.
    RenewedBytes,
}

const NUM_COUNTERS: usize = 16;

const COUNTER_NAMES: [&str; NUM_COUNTERS] = [
    "regions_created",
    "regions_reclaimed",
    "bytes_allocated",
    "chunks_allocated",
    "transmigrations",
    "transmigrated_objects",
    "transmigrated_bytes",
    "merges",
    "merged_chunks",
    "barrier_calls",
    "barrier_repairs",
    "tethers",
    "external_retains",
    "external_releases",
    "renewals",
    "renewed_bytes",
];

/// A gauge with a high-water mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gauge {
    /// Regions created and not yet reclaimed (the global region included).
    RegionsLive,
    /// Bytes allocated in regions not yet reclaimed, counted at chunk
    /// granularity (see `docs/REGION_ACCOUNTING.md`).
    BytesLive,
}

struct Globals {
    counters: [StatCounter; NUM_COUNTERS],
    /// Gauges are stored as wrapping u64 so that a thread that only reclaims
    /// (negative delta) can flush without a signed atomic.
    regions_live: StatCounter,
    regions_peak: StatCounter,
    bytes_live: StatCounter,
    bytes_peak: StatCounter,
}

macro_rules! globals_init {
    () => {
        Globals {
            counters: [
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
            ],
            regions_live: StatCounter::new(0),
            regions_peak: StatCounter::new(0),
            bytes_live: StatCounter::new(0),
            bytes_peak: StatCounter::new(0),
        }
    };
}

crate::base::atomics::runtime_static!(GLOBALS: Globals = globals_init!(); fn globals);

#[cfg(not(loom))]
mod local {
    use super::*;
    use std::cell::Cell;

    /// One thread's unflushed counts.
    pub(super) struct LocalStats {
        pub counters: [Cell<u64>; NUM_COUNTERS],
        pub regions_live: Cell<i64>,
        pub regions_peak: Cell<i64>,
        pub bytes_live: Cell<i64>,
        pub bytes_peak: Cell<i64>,
    }

    impl LocalStats {
        pub(super) const fn new() -> Self {
            LocalStats {
                counters: [const { Cell::new(0) }; NUM_COUNTERS],
                regions_live: Cell::new(0),
                regions_peak: Cell::new(0),
                bytes_live: Cell::new(0),
                bytes_peak: Cell::new(0),
            }
        }

        /// Move everything into the process-wide atomics.
        pub(super) fn flush(&self) {
            let g = globals();
            for (i, c) in self.counters.iter().enumerate() {
                let n = c.replace(0);
                if n != 0 {
                    g.counters[i].stat_add(n);
                }
            }
            flush_gauge(
                &self.regions_live,
                &self.regions_peak,
                &g.regions_live,
                &g.regions_peak,
            );
            flush_gauge(
                &self.bytes_live,
                &self.bytes_peak,
                &g.bytes_live,
                &g.bytes_peak,
            );
        }
    }

    fn flush_gauge(live: &Cell<i64>, peak: &Cell<i64>, g_live: &StatCounter, g_peak: &StatCounter) {
        let base = g_live.stat_load() as i64;
        let (d, p) = (live.replace(0), peak.replace(0));
        g_peak.stat_max((base + p).max(0) as u64);
        g_live.stat_add(d as u64); // wrapping add of a possibly negative delta
    }

    impl Drop for LocalStats {
        fn drop(&mut self) {
            self.flush();
        }
    }

    thread_local! {
        pub(super) static LOCAL: LocalStats = const { LocalStats::new() };
    }
}

/// Where counts go: the calling thread's cells, or the process-wide atomics
/// (under loom, or once the thread's cells are gone during thread exit).
trait StatSink {
    fn add(&self, c: Counter, n: u64);
    fn gauge(&self, g: Gauge, delta: i64);
}

#[cfg(not(loom))]
impl StatSink for local::LocalStats {
    #[inline(always)]
    fn add(&self, c: Counter, n: u64) {
        let cell = &self.counters[c as usize];
        cell.set(cell.get() + n);
    }
    #[inline(always)]
    fn gauge(&self, g: Gauge, delta: i64) {
        let (live, peak) = match g {
            Gauge::RegionsLive => (&self.regions_live, &self.regions_peak),
            Gauge::BytesLive => (&self.bytes_live, &self.bytes_peak),
        };
        let v = live.get() + delta;
        live.set(v);
        if v > peak.get() {
            peak.set(v);
        }
    }
}

impl StatSink for Globals {
    fn add(&self, c: Counter, n: u64) {
        self.counters[c as usize].stat_add(n);
    }
    fn gauge(&self, g: Gauge, delta: i64) {
        let (live, peak) = match g {
            Gauge::RegionsLive => (&self.regions_live, &self.regions_peak),
            Gauge::BytesLive => (&self.bytes_live, &self.bytes_peak),
        };
        live.stat_add(delta as u64);
        peak.stat_max(live.stat_load());
    }
}

/// Run `f` on the calling thread's sink (one thread-local access).
#[inline(always)]
fn with_sink(f: impl Fn(&dyn StatSink)) {
    #[cfg(not(loom))]
    {
        if local::LOCAL.try_with(|l| f(l)).is_ok() {
            return;
        }
    }
    f(globals())
}

/// Count `n` events of `c`.
#[inline(always)]
pub fn count(c: Counter, n: u64) {
    with_sink(|s| s.add(c, n));
}

/// Move a gauge by `delta` (positive or negative), raising its peak.
#[inline(always)]
pub fn gauge_add(g: Gauge, delta: i64) {
    with_sink(|s| s.gauge(g, delta));
}

/// A region was created.
#[inline(always)]
pub fn region_created() {
    with_sink(|s| {
        s.add(Counter::RegionsCreated, 1);
        s.gauge(Gauge::RegionsLive, 1);
    });
}

/// `n` more bytes of some region were accounted (a chunk was retired or a
/// dedicated chunk taken): they count as allocated and live.
#[inline(always)]
pub fn bytes_accounted(n: usize) {
    with_sink(|s| {
        s.add(Counter::BytesAllocated, n as u64);
        s.gauge(Gauge::BytesLive, n as i64);
    });
}

/// A region holding `total` bytes, `pending` of them not accounted yet, was
/// reclaimed.
#[inline(always)]
pub fn region_reclaimed(pending: usize, total: usize) {
    with_sink(|s| {
        s.add(Counter::RegionsReclaimed, 1);
        s.add(Counter::BytesAllocated, pending as u64);
        s.gauge(Gauge::BytesLive, pending as i64);
        s.gauge(Gauge::BytesLive, -(total as i64));
        s.gauge(Gauge::RegionsLive, -1);
    });
}

/// Record one call of the store barrier (issue 5 calls this), and whether it
/// had to repair the store.
pub fn record_barrier(repaired: bool) {
    count(Counter::BarrierCalls, 1);
    if repaired {
        count(Counter::BarrierRepairs, 1);
    }
}

/// Flush the calling thread's counts into the process totals (done
/// automatically when a thread exits).
pub fn flush_thread() {
    #[cfg(not(loom))]
    let _ = local::LOCAL.try_with(|l| l.flush());
}

/// A point-in-time copy of every statistic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub counters: [u64; NUM_COUNTERS],
    pub regions_live: i64,
    pub regions_peak_live: i64,
    pub bytes_live: i64,
    pub bytes_peak_live: i64,
}

impl StatsSnapshot {
    pub fn get(&self, c: Counter) -> u64 {
        self.counters[c as usize]
    }

    /// `(key, value)` pairs in report order.
    pub fn lines(&self) -> Vec<(&'static str, i64)> {
        let mut out = Vec::with_capacity(NUM_COUNTERS + 4);
        let c = |k: Counter| self.counters[k as usize] as i64;
        out.push(("regions_created", c(Counter::RegionsCreated)));
        out.push(("regions_reclaimed", c(Counter::RegionsReclaimed)));
        out.push(("regions_live", self.regions_live));
        out.push(("regions_peak_live", self.regions_peak_live));
        out.push(("bytes_live", self.bytes_live));
        out.push(("bytes_peak_live", self.bytes_peak_live));
        for (i, name) in COUNTER_NAMES.iter().enumerate().skip(2) {
            out.push((name, self.counters[i] as i64));
        }
        out
    }
}

// The bytes of the global region's unretired chunk live in region state,
// which this floor cannot see: the region layer registers the function that
// reads them when it creates the global region (before that they are 0).
crate::base::atomics::runtime_static!(PENDING_BYTES: PublishedPtr<()> = PublishedPtr::new(); fn pending_bytes_cell);

/// Register the function that reports the global region's pending bytes
/// (called by the region layer; the first registration wins).
pub fn set_pending_bytes_source(f: fn() -> usize) {
    pending_bytes_cell().ptr_publish_once(f as *mut ());
}

fn pending_bytes() -> usize {
    let f = pending_bytes_cell().ptr_load();
    if f.is_null() {
        return 0;
    }
    // SAFETY: only `set_pending_bytes_source` publishes into PENDING_BYTES,
    // and it stores a `fn() -> usize`.
    let f: fn() -> usize = unsafe { std::mem::transmute(f) };
    f()
}

/// Totals of all flushed threads plus the calling thread's unflushed counts.
/// The bytes of chunks still being filled are not counted yet (chunk
/// granularity), except the global region's, which never retires its last
/// chunk and is therefore added here.
pub fn snapshot() -> StatsSnapshot {
    let g = globals();
    let mut s = StatsSnapshot::default();
    for (i, c) in g.counters.iter().enumerate() {
        s.counters[i] = c.stat_load();
    }
    s.regions_live = g.regions_live.stat_load() as i64;
    s.regions_peak_live = g.regions_peak.stat_load() as i64;
    s.bytes_live = g.bytes_live.stat_load() as i64;
    s.bytes_peak_live = g.bytes_peak.stat_load() as i64;
    #[cfg(not(loom))]
    let _ = local::LOCAL.try_with(|l| {
        for (i, c) in l.counters.iter().enumerate() {
            s.counters[i] += c.get();
        }
        s.regions_peak_live = s
            .regions_peak_live
            .max(s.regions_live + l.regions_peak.get());
        s.regions_live += l.regions_live.get();
        s.bytes_peak_live = s.bytes_peak_live.max(s.bytes_live + l.bytes_peak.get());
        s.bytes_live += l.bytes_live.get();
    });
    let pending = pending_bytes() as i64;
    s.counters[Counter::BytesAllocated as usize] += pending as u64;
    s.bytes_live += pending;
    s.bytes_peak_live = s.bytes_peak_live.max(s.bytes_live);
    s
}

/// Render the report lines (`omni-stats: key=value`).
pub fn render(s: &StatsSnapshot) -> String {
    let mut out = String::new();
    for (k, v) in s.lines() {
        out.push_str(&format!("omni-stats: {k}={v}\n"));
    }
    out
}

/// Print the statistics to stderr if `OMNI_STATS=1`. Called by the start-up
/// code at normal exit and on the error path.
pub fn report_at_exit() {
    if std::env::var_os("OMNI_STATS").is_some_and(|v| v == "1") {
        use std::io::Write;
        let mut text = render(&snapshot());
        if let Some(kb) = peak_rss_kb() {
            text.push_str(&format!("omni-stats: peak_rss_kb={kb}\n"));
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The process's peak resident set size in KiB (`VmHWM` of
/// /proc/self/status), when the platform provides it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
