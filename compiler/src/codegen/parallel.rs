//! Compiling translated functions on worker threads.
//!
//! Translation to CLIF stays on the calling thread (it declares runtime
//! imports and string data in the module, which needs `&mut Module`); what
//! Cranelift does after that (`Context::compile`: optimisation, lowering,
//! register allocation, emission — nearly all of code generation) only
//! needs the function and the target ISA, so a [`Pipeline`] hands each
//! translated [`Context`] to a worker and takes the compiled one back. The
//! calling thread defines every function in the module in the order it was
//! submitted, a fixed number of submissions later ([`DEFINE_LAG`]), with
//! the bytes and relocations of the compiled code (as
//! `cranelift_module`'s own `define_function` does after compiling), and
//! builds its code-table entry, so the module, the object file and the code
//! table come out byte for byte the same whatever the threads' timing and
//! however many there are.
//!
//! The workers compile with their own copy of the module's ISA (the module
//! lends out only `&dyn TargetIsa`, and the calling thread keeps using the
//! module meanwhile): [`worker_isa`] rebuilds it from the module's triple
//! and flags and checks that every flag came out the same; when it cannot,
//! compilation stays on the calling thread. `OMNI_CODEGEN_THREADS=N` (or
//! [`super::CodegenOptions::threads`]) sets the number of threads that
//! compile: the calling thread, which also compiles a queued function
//! whenever it would otherwise wait for one, and N - 1 workers; 1 compiles
//! on the calling thread without starting any, for debugging.

use super::code_table::{self, CallInfo, EntryKind, TableEntry};
use super::{CodegenError, Result};
use crate::diag::timing;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::Configurable;
use cranelift_codegen::Context;
use cranelift_module::{FuncId, Module, ModuleReloc};
use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// How many functions translation runs ahead of definition: the function
/// submitted this many submissions earlier is defined right after each
/// submission. Translation also changes the module (it declares imports
/// and defines string data; the object file creates its sections and
/// symbols on first use), so the two must interleave the same way every
/// time: a fixed lag, not "whatever the workers have finished", and the
/// same lag when compiling on one thread. It bounds the contexts in
/// flight, enough that no worker idles while the calling thread
/// translates, few enough that the code waiting to be defined stays small.
/// (A lag of 96 cut the calling thread's waits for a worker still
/// compiling the function to define, 70–280 ms in all at 10,000 lines on
/// a loaded 2-core machine, to 0.5–110 ms, but translation took 37% longer,
/// into contexts last touched 96 functions before, and peak memory grew by
/// 8–12 MB: no faster in all. `OMNI_TIME_PASSES` reports the waits.)
const DEFINE_LAG: u64 = 32;

/// Stack of a worker: twice the main thread's 8 MiB, on which `omnic run`
/// has always compiled (Cranelift's passes iterate; the recursion over
/// deeply nested constants is translation's, which stays on the calling
/// thread). Only reserved, committed as it is touched; kept small since it
/// counts against an address-space limit (`ulimit -v`) the program then
/// runs under.
const WORKER_STACK_SIZE: usize = 16 << 20;

/// What the calling thread keeps of a submitted function until its
/// compiled code comes back: how to define it and name it in the code table.
pub(crate) struct Job {
    pub id: FuncId,
    pub kind: EntryKind,
    pub symbol: String,
    pub name: String,
    /// The call sites `code_table::number_call_sites` numbered.
    pub calls: Vec<CallInfo>,
    /// Code that runs once per program run (a top-level form, the entry):
    /// compiled with the [`run_once_isa`], quickly rather than well.
    pub run_once: bool,
}

/// Below this many functions to compile, [`thread_count`] picks no
/// workers unless asked: compiling them takes a few milliseconds, and each
/// worker costs a thread and, with glibc, a malloc arena whose reserved
/// 64 MiB count against an address-space limit (`ulimit -v`) that the
/// program run afterwards by `omnic run` shares.
const MIN_FUNCTIONS_FOR_WORKERS: usize = 64;

/// How many threads (the calling one included) compile `functions`
/// functions: `requested` if non-zero, else `OMNI_CODEGEN_THREADS` if set
/// to a positive number, else 1 for a small program and the machine's
/// available parallelism for a larger one.
pub(crate) fn thread_count(requested: usize, functions: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    if let Some(n) = std::env::var("OMNI_CODEGEN_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    if functions < MIN_FUNCTIONS_FOR_WORKERS {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A copy of `isa` that worker threads can own: the same triple, shared
/// flags and ISA-specific flags. `None` if the copy would differ in any
/// flag (then the caller compiles on its own thread).
pub(crate) fn worker_isa(isa: &dyn TargetIsa) -> Option<OwnedTargetIsa> {
    let copy = isa_with(isa, &[])?;
    let same = copy.flags().to_string() == isa.flags().to_string()
        && flag_text(&*copy) == flag_text(isa)
        && copy.triple() == isa.triple();
    same.then_some(copy)
}

/// The shared flags that [`run_once_isa`] changes: no e-graph
/// optimisation, and the single-pass register allocator instead of the
/// backtracking one. Code that runs once (the program's top-level forms,
/// its entry, the start-up code: ~15% of the CLIF of a large program)
/// does not repay the time these save in code generation (issue 13).
const RUN_ONCE_FLAGS: &[(&str, &str)] =
    &[("opt_level", "none"), ("regalloc_algorithm", "single_pass")];

/// `isa` with [`RUN_ONCE_FLAGS`], for code that runs once per program
/// run; `None` if the copy cannot be made (then such code is compiled
/// like the rest).
pub(crate) fn run_once_isa(isa: &dyn TargetIsa) -> Option<OwnedTargetIsa> {
    isa_with(isa, RUN_ONCE_FLAGS)
}

/// A copy of `isa` with the shared flags `changes` set.
fn isa_with(isa: &dyn TargetIsa, changes: &[(&str, &str)]) -> Option<OwnedTargetIsa> {
    let mut builder = cranelift_codegen::isa::lookup(isa.triple().clone()).ok()?;
    for value in isa.isa_flags() {
        builder.set(value.name, &value.value_string()).ok()?;
    }
    let flags = if changes.is_empty() {
        isa.flags().clone()
    } else {
        let mut shared = cranelift_codegen::settings::builder();
        for value in isa.flags().iter() {
            shared.set(value.name, &value.value_string()).ok()?;
        }
        for (name, value) in changes {
            shared.set(name, value).ok()?;
        }
        cranelift_codegen::settings::Flags::new(shared)
    };
    builder.finish(flags).ok()
}

fn flag_text(isa: &dyn TargetIsa) -> Vec<String> {
    isa.isa_flags().iter().map(|v| v.to_string()).collect()
}

/// Compile `ctx` for `isa` (the work a worker does).
fn compile_context(ctx: &mut Context, isa: &dyn TargetIsa) -> Result<()> {
    ctx.compile(isa, &mut ControlPlane::default())
        .map(|_| ())
        // The Debug form carries the verifier's per-instruction messages.
        .map_err(|e| CodegenError::new(format!("cranelift: {:?}", e.inner)))
}

/// Define the function `id` in `module` with the code compiled in `ctx`,
/// as `Module::define_function` would have.
fn define_compiled<M: Module>(module: &mut M, id: FuncId, ctx: &Context) -> Result<()> {
    let code = ctx
        .compiled_code()
        .ok_or_else(|| CodegenError::new("a submitted function was not compiled"))?;
    let relocs: Vec<ModuleReloc> = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    module.define_function_bytes(
        id,
        code.buffer.alignment as u64,
        code.buffer.data(),
        &relocs,
    )?;
    Ok(())
}

/// A job for the workers: a translated function's sequence number, its
/// context and whether it runs once ([`Job::run_once`]).
type WorkItem = (u64, Box<Context>, bool);

/// Jobs for the workers.
type JobQueue = Arc<Mutex<Receiver<WorkItem>>>;

/// The worker side of a [`Pipeline`].
struct Workers {
    jobs: Sender<WorkItem>,
    /// The workers' end of `jobs`: the calling thread, instead of waiting
    /// for a function, compiles a job no worker has taken yet.
    queue: JobQueue,
    isa: OwnedTargetIsa,
    results: Receiver<(u64, std::thread::Result<Result<Box<Context>>>)>,
}

/// Takes translated functions in order and defines them compiled in the
/// module in the same order (see the module comment).
pub(crate) struct Pipeline {
    workers: Option<Workers>,
    /// The ISA for code that runs once ([`run_once_isa`]); `None`: the
    /// module's.
    run_once: Option<OwnedTargetIsa>,
    /// Cleared contexts to translate into (each keeps its allocations and
    /// register allocator state from earlier functions).
    spare: Vec<Box<Context>>,
    /// Submitted jobs not yet defined, oldest first; the oldest has
    /// sequence number `defined`.
    waiting: VecDeque<Job>,
    /// Compiled contexts not yet defined, by sequence number.
    done: BTreeMap<u64, Result<Box<Context>>>,
    submitted: u64,
    defined: u64,
    /// The calling thread's time waiting for a worker to return the code
    /// of the function it must define next.
    idle: timing::Total,
}

/// Run `body` with a pipeline of `threads - 1` workers and this thread
/// compiling with `isa` (`None` or `threads <= 1`: everything on this
/// thread). The workers end when `body` returns.
pub(crate) fn with_pipeline<R>(
    threads: usize,
    isa: Option<OwnedTargetIsa>,
    run_once: Option<OwnedTargetIsa>,
    body: impl FnOnce(&mut Pipeline) -> Result<R>,
) -> Result<R> {
    let isa = match isa {
        Some(isa) if threads > 1 => isa,
        _ => return body(&mut Pipeline::new(None, run_once)),
    };
    let (job_tx, job_rx) = mpsc::channel::<WorkItem>();
    let (result_tx, result_rx) = mpsc::channel();
    let job_rx: JobQueue = Arc::new(Mutex::new(job_rx));
    std::thread::scope(|scope| {
        let mut started = 0;
        // The calling thread is one of the `threads`: it translates,
        // defines, and compiles while it would otherwise wait.
        for _ in 1..threads {
            let (job_rx, result_tx, isa) = (&job_rx, result_tx.clone(), &isa);
            let run_once = run_once.clone();
            let worker = move || loop {
                // The lock is held only while waiting for the next job.
                let next = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, mut ctx, once)) = next else {
                    return;
                };
                let isa = match &run_once {
                    Some(fast) if once => fast,
                    _ => isa,
                };
                // A panic in Cranelift goes back to the calling thread,
                // which raises it again (as if it had compiled there).
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    compile_context(&mut ctx, &**isa)
                }))
                .map(|compiled| compiled.map(|()| ctx));
                if result_tx.send((seq, result)).is_err() {
                    return;
                }
            };
            // A thread the system refuses (an address-space limit) is
            // one worker fewer; the output does not depend on the count.
            let spawned = std::thread::Builder::new()
                .name("omnic-codegen".into())
                .stack_size(WORKER_STACK_SIZE)
                .spawn_scoped(scope, worker);
            if spawned.is_err() {
                break;
            }
            started += 1;
        }
        drop(result_tx);
        if started == 0 {
            drop(job_tx);
            return body(&mut Pipeline::new(None, run_once));
        }
        let mut pipeline = Pipeline::new(
            Some(Workers {
                jobs: job_tx,
                queue: Arc::clone(&job_rx),
                isa: Arc::clone(&isa),
                results: result_rx,
            }),
            run_once,
        );
        // Dropping the pipeline (the job sender) ends the workers, also
        // when `body` fails.
        body(&mut pipeline)
    })
}

impl Pipeline {
    fn new(workers: Option<Workers>, run_once: Option<OwnedTargetIsa>) -> Pipeline {
        Pipeline {
            workers,
            run_once,
            spare: Vec::new(),
            waiting: VecDeque::new(),
            done: BTreeMap::new(),
            submitted: 0,
            defined: 0,
            idle: timing::Total::new("codegen: calling thread waits"),
        }
    }

    /// A cleared context to translate the next function into.
    pub fn context<M: Module>(&mut self, module: &M) -> Box<Context> {
        match self.spare.pop() {
            Some(mut ctx) => {
                module.clear_context(&mut ctx);
                ctx
            }
            None => Box::new(module.make_context()),
        }
    }

    /// Compile the translated function in `ctx` and define it in `module`
    /// with its entry in `table`, after every function submitted before
    /// it. The function submitted [`DEFINE_LAG`] submissions ago is
    /// defined now (waiting for its code if need be).
    pub fn submit<M: Module>(
        &mut self,
        module: &mut M,
        mut ctx: Box<Context>,
        job: Job,
        table: &mut Vec<TableEntry>,
    ) -> Result<()> {
        let seq = self.submitted;
        self.submitted += 1;
        let once = job.run_once;
        self.waiting.push_back(job);
        match &mut self.workers {
            None => {
                let isa = match &self.run_once {
                    Some(fast) if once => &**fast,
                    _ => module.isa(),
                };
                let result = compile_context(&mut ctx, isa).map(|()| ctx);
                self.done.insert(seq, result);
            }
            Some(workers) => {
                if workers.jobs.send((seq, ctx, once)).is_err() {
                    return Err(CodegenError::new("the code generation workers stopped"));
                }
            }
        }
        while self.defined + DEFINE_LAG < self.submitted {
            self.define_next(module, table)?;
        }
        Ok(())
    }

    /// Define every submitted function; call before anything reads the
    /// module's functions or the table.
    pub fn finish<M: Module>(&mut self, module: &mut M, table: &mut Vec<TableEntry>) -> Result<()> {
        while self.defined < self.submitted {
            self.define_next(module, table)?;
        }
        Ok(())
    }

    /// Define the oldest submitted function not yet defined, waiting for
    /// a worker to return its code.
    fn define_next<M: Module>(
        &mut self,
        module: &mut M,
        table: &mut Vec<TableEntry>,
    ) -> Result<()> {
        let seq = self.defined;
        let ctx = loop {
            if let Some(result) = self.done.remove(&seq) {
                break result?;
            }
            let workers = self
                .workers
                .as_mut()
                .ok_or_else(|| CodegenError::new("a submitted function was not compiled"))?;
            // Rather than wait, compile a job no worker has started (any
            // one: each is compiled the same wherever). `try_lock`: a
            // worker holds the lock while it waits for a job, and the
            // jobs come from this thread.
            let queued = match workers.queue.try_lock() {
                Ok(rx) => rx.try_recv().ok(),
                Err(_) => None,
            };
            if let Some((seq, mut ctx, once)) = queued {
                let isa = match &self.run_once {
                    Some(fast) if once => fast,
                    _ => &workers.isa,
                };
                let result = compile_context(&mut ctx, &**isa).map(|()| ctx);
                self.done.insert(seq, result);
                continue;
            }
            let (seq, result) = self
                .idle
                .time(|| workers.results.recv())
                .map_err(|_| CodegenError::new("the code generation workers stopped"))?;
            let result = result.unwrap_or_else(|payload| std::panic::resume_unwind(payload));
            self.done.insert(seq, result);
        };
        let job = self
            .waiting
            .pop_front()
            .ok_or_else(|| CodegenError::new("compiled code without a job"))?;
        self.defined += 1;
        define_compiled(module, job.id, &ctx)?;
        table.push(code_table::finish_entry(
            &ctx, job.id, job.kind, job.symbol, job.name, &job.calls,
        ));
        self.spare.push(ctx);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{types, AbiParam, InstBuilder};
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
    use cranelift_module::Linkage;

    /// Translate `fn(x) -> x + k` (or, with `broken`, a function whose
    /// result has the wrong type, which Cranelift's verifier rejects) into
    /// a context of `pipeline` and submit it.
    fn submit_one<M: Module>(
        pipeline: &mut Pipeline,
        module: &mut M,
        table: &mut Vec<TableEntry>,
        k: i64,
        broken: bool,
    ) -> Result<()> {
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        let id = module.declare_function(&format!("f{k}"), Linkage::Local, &sig)?;
        let mut ctx = pipeline.context(module);
        ctx.func.signature = sig;
        let mut fb = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fb);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let x = b.block_params(block)[0];
        let sum = b.ins().iadd_imm_s(x, k);
        let result = if broken {
            b.ins().ireduce(types::I32, sum)
        } else {
            sum
        };
        b.ins().return_(&[result]);
        b.finalize(module.target_config());
        let job = Job {
            id,
            kind: EntryKind::Trampoline,
            symbol: format!("f{k}"),
            name: format!("f{k}"),
            calls: Vec::new(),
            run_once: k % 3 == 0,
        };
        pipeline.submit(module, ctx, job, table)
    }

    #[test]
    fn functions_are_defined_in_submission_order() {
        let mut module = crate::codegen::object_module("t", "speed").unwrap();
        let isa = worker_isa(module.isa());
        assert!(isa.is_some(), "the host ISA can be copied for the workers");
        let mut table = Vec::new();
        with_pipeline(3, isa, run_once_isa(module.isa()), |pipeline| {
            for k in 0..100 {
                submit_one(pipeline, &mut module, &mut table, k, false)?;
            }
            pipeline.finish(&mut module, &mut table)
        })
        .unwrap();
        let names: Vec<_> = table.iter().map(|e| e.name.clone()).collect();
        let expected: Vec<_> = (0..100).map(|k| format!("f{k}")).collect();
        assert_eq!(names, expected);
        assert!(table.iter().all(|e| e.size > 0));
    }

    #[test]
    fn a_cranelift_error_on_a_worker_is_an_error_of_the_caller() {
        let mut module = crate::codegen::object_module("t", "speed").unwrap();
        let isa = worker_isa(module.isa());
        let mut table = Vec::new();
        let err = with_pipeline(2, isa, run_once_isa(module.isa()), |pipeline| {
            for k in 0..20 {
                submit_one(pipeline, &mut module, &mut table, k, k == 7)?;
            }
            pipeline.finish(&mut module, &mut table)
        })
        .unwrap_err();
        assert!(err.message.starts_with("cranelift: "), "{}", err.message);
        // Everything before the broken function was defined, nothing after.
        assert_eq!(table.len(), 7);
    }

    #[test]
    fn thread_count_prefers_the_option() {
        assert_eq!(thread_count(3, 1), 3);
        assert!(thread_count(0, 10_000) >= 1);
        if std::env::var_os("OMNI_CODEGEN_THREADS").is_none() {
            assert_eq!(thread_count(0, MIN_FUNCTIONS_FOR_WORKERS - 1), 1);
        }
    }
}
