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
#[repr(usize)]
pub enum Gauge {
    /// Regions created and not yet reclaimed (the global region included).
    RegionsLive,
    /// Bytes of the chunks of regions not yet reclaimed, whole
    /// (descriptors and unused tails included), see
    /// `docs/REGION_ACCOUNTING.md`.
    BytesLive,
    /// Bytes of free chunks kept in the threads' pools (and as spare first
    /// chunks of pooled control blocks).
    BytesPooled,
    /// Bytes allocated through the global allocator (`heap_count.rs`) and
    /// not freed: live data, runtime buffers and pooled memory alike.
    BytesHeld,
    /// `BytesHeld` minus `BytesPooled`: every allocated byte that is not a
    /// free pooled chunk (live regions' chunks, control blocks, runtime
    /// buffers).
    BytesInUse,
}

const NUM_GAUGES: usize = 5;

struct Globals {
    counters: [StatCounter; NUM_COUNTERS],
    /// Gauges are stored as wrapping u64 so that a thread that only reclaims
    /// (negative delta) can flush without a signed atomic.
    live: [StatCounter; NUM_GAUGES],
    peak: [StatCounter; NUM_GAUGES],
    /// Largest touched size of a runtime-created stack (bytes).
    stack_bytes: StatCounter,
    /// Resident bytes of coroutine stacks (live or pooled), as last
    /// measured, and the peak of that sum.
    coro_stack: StatCounter,
    coro_stack_peak: StatCounter,
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
            live: [
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
            ],
            peak: [
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
                StatCounter::new(0),
            ],
            stack_bytes: StatCounter::new(0),
            coro_stack: StatCounter::new(0),
            coro_stack_peak: StatCounter::new(0),
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
        pub live: [Cell<i64>; NUM_GAUGES],
        pub peak: [Cell<i64>; NUM_GAUGES],
    }

    impl LocalStats {
        pub(super) const fn new() -> Self {
            LocalStats {
                counters: [const { Cell::new(0) }; NUM_COUNTERS],
                live: [const { Cell::new(0) }; NUM_GAUGES],
                peak: [const { Cell::new(0) }; NUM_GAUGES],
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
            for i in 0..NUM_GAUGES {
                flush_gauge(&self.live[i], &self.peak[i], &g.live[i], &g.peak[i]);
            }
            super::flush_heap();
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
            // The heap cells have no destructor of their own (the counting
            // allocator runs during thread exit): a thread's heap counts
            // reach the process totals here, with its other counts, and what
            // later destructors free goes there directly.
            super::flush_heap();
            let _ = super::heap_local::HEAP.try_with(|h| h.exiting.set(true));
        }
    }

    thread_local! {
        pub(super) static LOCAL: LocalStats = const { LocalStats::new() };
    }
}

/// The heap gauges (`BytesHeld`, `BytesInUse`) of one thread: moved on
/// every allocation and free (`heap_count.rs`), so they live in a
/// thread-local without a destructor (its access is a plain TLS offset, no
/// registration check); `LocalStats::flush` moves them to the process
/// totals with the other counts.
#[cfg(not(loom))]
mod heap_local {
    use std::cell::Cell;

    pub(super) struct HeapCells {
        /// [held, in use]: current value and peak, relative to the last flush.
        pub live: [Cell<i64>; 2],
        pub peak: [Cell<i64>; 2],
        /// Set once the thread's counts were flushed at its exit: what the
        /// remaining thread-local destructors free goes straight to the
        /// process totals.
        pub exiting: Cell<bool>,
    }

    thread_local! {
        pub(super) static HEAP: HeapCells = const {
            HeapCells {
                live: [const { Cell::new(0) }; 2],
                peak: [const { Cell::new(0) }; 2],
                exiting: Cell::new(false),
            }
        };
    }
}

#[cfg(not(loom))]
const HEAP_GAUGES: [Gauge; 2] = [Gauge::BytesHeld, Gauge::BytesInUse];

/// Move the heap gauges by `held` and `in_use` bytes.
#[inline(always)]
fn heap_gauges(held: i64, in_use: i64) {
    #[cfg(not(loom))]
    {
        let done = heap_local::HEAP.try_with(|h| {
            if h.exiting.get() {
                return false;
            }
            for (i, d) in [held, in_use].into_iter().enumerate() {
                let v = h.live[i].get() + d;
                h.live[i].set(v);
                if v > h.peak[i].get() {
                    h.peak[i].set(v);
                }
            }
            true
        });
        if done == Ok(true) {
            return;
        }
    }
    let g = globals();
    g.gauge(Gauge::BytesHeld, held);
    g.gauge(Gauge::BytesInUse, in_use);
}

/// Move the calling thread's heap cells into the process totals.
fn flush_heap() {
    #[cfg(not(loom))]
    let _ = heap_local::HEAP.try_with(|h| {
        let g = globals();
        for (i, gauge) in HEAP_GAUGES.iter().enumerate() {
            let k = *gauge as usize;
            let base = g.live[k].stat_load() as i64;
            let (d, p) = (h.live[i].replace(0), h.peak[i].replace(0));
            g.peak[k].stat_max((base + p).max(0) as u64);
            g.live[k].stat_add(d as u64);
        }
    });
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
        let (live, peak) = (&self.live[g as usize], &self.peak[g as usize]);
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
        let (live, peak) = (&self.live[g as usize], &self.peak[g as usize]);
        live.stat_add(delta as u64);
        // The gauge may dip below its baseline (`start_program`): only a
        // positive value is a peak candidate.
        peak.stat_max((live.stat_load() as i64).max(0) as u64);
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

/// A region was created. (Its control block is heap memory in use whether
/// the region is alive or the block pooled: the pool keeps at most 1,024
/// blocks per thread, so creation moves no byte gauge.)
#[inline(always)]
pub fn region_created() {
    with_sink(|s| {
        s.add(Counter::RegionsCreated, 1);
        s.gauge(Gauge::RegionsLive, 1);
    });
}

/// `n` more bytes of objects of some region were accounted (a chunk was
/// retired or a dedicated chunk taken): they count as allocated.
#[inline(always)]
pub fn bytes_accounted(n: usize) {
    count(Counter::BytesAllocated, n as u64);
}

/// A live region took a chunk of `size` bytes (from the thread's pool when
/// `from_pool`).
#[inline(always)]
pub fn chunk_taken(size: usize, from_pool: bool) {
    with_sink(|s| {
        s.add(Counter::ChunksAllocated, 1);
        s.gauge(Gauge::BytesLive, size as i64);
        if from_pool {
            s.gauge(Gauge::BytesPooled, -(size as i64));
        }
    });
    if from_pool {
        heap_gauges(0, size as i64);
    }
}

/// A region whose chunks total `held` bytes, `pending` object bytes of it
/// not accounted yet, was reclaimed; `pooled` of the chunk bytes stay in
/// the thread's pool (the rest went back to the system).
#[inline(always)]
pub fn region_reclaimed(pending: usize, held: usize, pooled: usize) {
    with_sink(|s| {
        s.add(Counter::RegionsReclaimed, 1);
        s.gauge(Gauge::RegionsLive, -1);
        if held != 0 {
            s.add(Counter::BytesAllocated, pending as u64);
            s.gauge(Gauge::BytesLive, -(held as i64));
            s.gauge(Gauge::BytesPooled, pooled as i64);
        }
    });
    if pooled != 0 {
        heap_gauges(0, -(pooled as i64));
    }
}

/// `n` bytes (negative: taken out) went into a thread's pool of free
/// control blocks and chunks.
#[inline(always)]
pub fn pooled(n: i64) {
    gauge_add(Gauge::BytesPooled, n);
    heap_gauges(0, -n);
}

/// The global allocator handed out (`n > 0`) or took back (`n < 0`) |n| bytes.
#[inline(always)]
pub fn heap_bytes(n: i64) {
    heap_gauges(n, n);
}

/// The global allocator took back `n` bytes: both heap gauges fall, so no
/// peak can move (the free path skips `heap_gauges`' peak compares).
#[inline(always)]
pub fn heap_freed(n: usize) {
    #[cfg(not(loom))]
    {
        let done = heap_local::HEAP.try_with(|h| {
            if h.exiting.get() {
                return false;
            }
            for cell in &h.live {
                cell.set(cell.get() - n as i64);
            }
            true
        });
        if done == Ok(true) {
            return;
        }
    }
    heap_gauges(-(n as i64), -(n as i64));
}

/// Start counting the program's memory from here: the heap gauges (held,
/// in use) restart at zero, so what the process allocated before the
/// program started (the JIT compiler of `omnic run`, start-up) is not
/// counted. Called by the start-up code on the thread that then waits for
/// the program thread.
pub fn start_program() {
    flush_thread();
    let g = globals();
    for gauge in [Gauge::BytesHeld, Gauge::BytesInUse] {
        g.live[gauge as usize].stat_store(0);
        g.peak[gauge as usize].stat_store(0);
    }
}

/// A stack the runtime created had `n` bytes touched (resident) when
/// measured; the report shows the largest.
pub fn record_stack_bytes(n: usize) {
    globals().stack_bytes.stat_max(n as u64);
}

/// The measured resident size of the coroutine stacks changed by `delta`.
pub fn coroutine_stack_bytes(delta: i64) {
    let g = globals();
    g.coro_stack.stat_add(delta as u64);
    g.coro_stack_peak
        .stat_max((g.coro_stack.stat_load() as i64).max(0) as u64);
}

/// Whether `OMNI_STATS=1` (read once per thread).
pub fn enabled() -> bool {
    thread_local! {
        static ON: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    }
    ON.try_with(|on| {
        if on.get() == 0 {
            let yes = std::env::var_os("OMNI_STATS").is_some_and(|v| v == "1");
            on.set(1 + yes as u8);
        }
        on.get() == 2
    })
    .unwrap_or(false)
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
    flush_heap();
}

/// A point-in-time copy of every statistic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub counters: [u64; NUM_COUNTERS],
    pub regions_live: i64,
    pub regions_peak_live: i64,
    /// Bytes held by live regions (control blocks, whole chunks).
    pub bytes_live: i64,
    /// Peak of `bytes_live`, plus `bytes_stack`: what peak RSS should be
    /// explained by (docs/REGION_ACCOUNTING.md).
    pub bytes_peak_live: i64,
    /// Peak of the bytes of live regions' chunks alone (whole chunks).
    pub bytes_regions_peak: i64,
    /// Bytes of free chunks in the pools now.
    pub bytes_pooled: i64,
    /// Largest touched size of a runtime-created stack.
    pub bytes_stack: i64,
    /// Peak of everything allocated (pooled memory included), plus
    /// `bytes_stack`.
    pub bytes_held_peak: i64,
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
        out.push(("bytes_regions_peak", self.bytes_regions_peak));
        out.push(("bytes_pooled", self.bytes_pooled));
        out.push(("bytes_stack", self.bytes_stack));
        out.push(("bytes_held_peak", self.bytes_held_peak));
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
/// The object bytes of chunks still being filled are not counted in
/// `bytes_allocated` yet (chunk granularity), except the global region's,
/// which never retires its last chunk and is therefore added here. The byte
/// gauges are exact at every moment (whole chunks are counted when taken).
pub fn snapshot() -> StatsSnapshot {
    let g = globals();
    let mut s = StatsSnapshot::default();
    for (i, c) in g.counters.iter().enumerate() {
        s.counters[i] = c.stat_load();
    }
    let mut live = [0i64; NUM_GAUGES];
    let mut peak = [0i64; NUM_GAUGES];
    for i in 0..NUM_GAUGES {
        live[i] = g.live[i].stat_load() as i64;
        peak[i] = g.peak[i].stat_load() as i64;
    }
    #[cfg(not(loom))]
    let _ = local::LOCAL.try_with(|l| {
        for (i, c) in l.counters.iter().enumerate() {
            s.counters[i] += c.get();
        }
        for i in 0..NUM_GAUGES {
            peak[i] = peak[i].max(live[i] + l.peak[i].get());
            live[i] += l.live[i].get();
        }
    });
    #[cfg(not(loom))]
    let _ = heap_local::HEAP.try_with(|h| {
        for (i, gauge) in HEAP_GAUGES.iter().enumerate() {
            let k = *gauge as usize;
            peak[k] = peak[k].max(live[k] + h.peak[i].get());
            live[k] += h.live[i].get();
        }
    });
    s.counters[Counter::BytesAllocated as usize] += pending_bytes() as u64;
    let (r, b, p, h, u) = (
        Gauge::RegionsLive as usize,
        Gauge::BytesLive as usize,
        Gauge::BytesPooled as usize,
        Gauge::BytesHeld as usize,
        Gauge::BytesInUse as usize,
    );
    s.regions_live = live[r];
    s.regions_peak_live = peak[r].max(live[r]);
    s.bytes_stack = (g.stack_bytes.stat_load() + g.coro_stack_peak.stat_load()) as i64;
    // Under loom (no counting allocator) the regions' own gauge stands in.
    let (in_use, in_use_peak) = if cfg!(loom) {
        (live[b], peak[b])
    } else {
        (live[u], peak[u])
    };
    s.bytes_live = in_use;
    s.bytes_peak_live = in_use_peak.max(in_use) + s.bytes_stack;
    s.bytes_regions_peak = peak[b].max(live[b]);
    s.bytes_pooled = live[p];
    s.bytes_held_peak = (peak[h].max(live[h]) + s.bytes_stack).max(s.bytes_peak_live);
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
