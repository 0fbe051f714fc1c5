//! Code generation tests on hand-built IR programs: each is JIT-compiled
//! against the real runtime and run, and its result word is checked.

use super::*;
use crate::ir::{
    Alloc, AllocKind, AllocSite, AllocSiteId, Atom, Block, Callee, Const, ConstId, FuncId,
    Function, FunctionKind, Global, GlobalId, InlineOp, LocId, Op, Program, QuotedDatum, RegionRef,
    SourceLoc, Stmt, Tail, VarId,
};
use crate::syntax::Span;
use omni_runtime::value::{make_int, FALSE, NIL, NOTHING, TRUE};
use std::sync::Mutex;

/// The runtime's global region is used by one mutator thread at a time.
static RUN_LOCK: Mutex<()> = Mutex::new(());

fn v(i: u32) -> Atom {
    Atom::Var(VarId(i))
}
fn int(n: i64) -> Atom {
    Atom::Imm(make_int(n))
}
fn set(var: u32, op: Op) -> Stmt {
    Stmt {
        var: Some(VarId(var)),
        op,
        loc: LocId(0),
    }
}
fn inline(op: InlineOp, args: &[Atom]) -> Op {
    Op::Inline(op, args.to_vec(), None)
}
fn block(stmts: Vec<Stmt>, tail: Tail) -> Block {
    Block { stmts, tail }
}
fn ret(a: Atom) -> Tail {
    Tail::Return(a)
}
fn tail_if(cond: Atom, then: Block, els: Block) -> Tail {
    Tail::If {
        cond,
        then: Box::new(then),
        els: Box::new(els),
    }
}
fn tail_call(callee: Callee, args: &[Atom]) -> Tail {
    Tail::Call {
        callee,
        args: args.to_vec(),
        loc: LocId(0),
    }
}
fn known(func: u32) -> Callee {
    Callee::Known {
        func: FuncId(func),
        env: Atom::Imm(0),
    }
}

/// A function; `nvars` must cover every variable the body uses.
fn function(
    id: u32,
    name: &str,
    params: &[u32],
    rest: Option<u32>,
    nfree: u32,
    nvars: u32,
    body: Block,
) -> Function {
    Function {
        id: FuncId(id),
        name: name.to_string(),
        kind: if id == 0 {
            FunctionKind::Entry
        } else {
            FunctionKind::User
        },
        params: params.iter().map(|p| VarId(*p)).collect(),
        rest: rest.map(VarId),
        nfree,
        nvars,
        body,
        loc: LocId(0),
    }
}

/// A program whose entry is function 0, with `nsites` global-region sites.
fn program(
    functions: Vec<Function>,
    consts: Vec<Const>,
    nglobals: usize,
    nsites: usize,
) -> Program {
    Program {
        functions,
        globals: (0..nglobals)
            .map(|i| Global {
                name: format!("g{i}"),
                int_only: false,
            })
            .collect(),
        consts,
        alloc_sites: (0..nsites)
            .map(|_| AllocSite {
                kind: AllocKind::Cons,
                func: FuncId(0),
                span: Span::default(),
                loc: LocId(0),
                region: RegionRef::Global,
            })
            .collect(),
        locs: vec![
            SourceLoc {
                file: "?".into(),
                line: 0,
                col: 0,
                inlined: None,
            },
            SourceLoc {
                file: "t.omni".into(),
                line: 3,
                col: 7,
                inlined: None,
            },
        ],
        raw_float_fields: Default::default(),
        entry: FuncId(0),
    }
}

fn jit_run(prog: &Program) -> u64 {
    let _guard = RUN_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let symbols = omni_runtime::abi::runtime_symbols();
    let mut module = jit_module(symbols).expect("jit module");
    let compiled = compile(prog, &mut module, &CodegenOptions::default()).expect("compile");
    let entry = finalize_jit(&mut module, &compiled).expect("finalize");
    let result = entry();
    drop(module);
    result
}

/// `loop(i, acc) = if i > limit then acc else loop(i + 1, acc + i)`, as
/// function 1; the entry calls `loop(1, 0)`.
fn sum_loop_program(limit: i64) -> Program {
    let looped = function(
        1,
        "loop",
        &[0, 1],
        None,
        0,
        5,
        block(
            vec![set(2, inline(InlineOp::Gt, &[v(0), int(limit)]))],
            tail_if(
                v(2),
                block(vec![], ret(v(1))),
                block(
                    vec![
                        set(3, inline(InlineOp::Add, &[v(0), int(1)])),
                        set(4, inline(InlineOp::Add, &[v(1), v(0)])),
                    ],
                    tail_call(known(1), &[v(3), v(4)]),
                ),
            ),
        ),
    );
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        0,
        block(vec![], tail_call(known(1), &[int(1), int(0)])),
    );
    program(vec![entry, looped], vec![], 0, 0)
}

#[test]
fn tail_recursive_sum() {
    assert_eq!(jit_run(&sum_loop_program(1000)), make_int(500_500));
}

#[test]
fn hundred_million_iteration_self_loop_runs_in_constant_stack() {
    let n: i64 = 100_000_000;
    assert_eq!(jit_run(&sum_loop_program(n)), make_int(n * (n + 1) / 2));
}

/// even(n) and odd(n) calling each other through closures in globals; the
/// entry starts with `(even? 10000001)`.
fn parity_program() -> Program {
    // even(n) = n == 0 ? true  : g_odd(n - 1)   (unknown tail call via global)
    // odd(n)  = n == 0 ? false : g_even(n - 1)
    let parity = |id: u32, name: &str, base: u64, other: u32| {
        function(
            id,
            name,
            &[0],
            None,
            0,
            4,
            block(
                vec![set(1, inline(InlineOp::NumEq, &[v(0), int(0)]))],
                tail_if(
                    v(1),
                    block(vec![], ret(Atom::Imm(base))),
                    block(
                        vec![
                            set(2, inline(InlineOp::Sub, &[v(0), int(1)])),
                            set(
                                3,
                                Op::GlobalGet {
                                    global: GlobalId(other),
                                    checked: true,
                                },
                            ),
                        ],
                        tail_call(Callee::Unknown(v(3)), &[v(2)]),
                    ),
                ),
            ),
        )
    };
    let even = parity(1, "even?", TRUE, 1);
    let odd = parity(2, "odd?", FALSE, 0);
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        4,
        block(
            vec![
                set(
                    0,
                    Op::Alloc {
                        site: AllocSiteId(0),
                        what: Alloc::Closure {
                            func: FuncId(1),
                            free: vec![],
                        },
                    },
                ),
                set(
                    1,
                    Op::Alloc {
                        site: AllocSiteId(1),
                        what: Alloc::Closure {
                            func: FuncId(2),
                            free: vec![],
                        },
                    },
                ),
                set(
                    2,
                    Op::GlobalSet {
                        global: GlobalId(0),
                        value: v(0),
                        barrier: false,
                    },
                ),
                set(
                    3,
                    Op::GlobalSet {
                        global: GlobalId(1),
                        value: v(1),
                        barrier: false,
                    },
                ),
            ],
            tail_call(Callee::Unknown(v(0)), &[int(10_000_001)]),
        ),
    );
    program(vec![entry, even, odd], vec![], 2, 2)
}

#[test]
fn mutual_recursion_through_closures_is_proper_tail_calls() {
    assert_eq!(jit_run(&parity_program()), FALSE);
}

/// Only functions some closure holds get an `apply` entry: the entry and a
/// function only called directly have none (compile time, issue 13).
#[test]
fn apply_entries_only_for_closure_targets() {
    let mut module = jit_module(std::iter::empty()).unwrap();
    let opts = CodegenOptions {
        dump_clif: true,
        emit_main: false,
        merge_threshold_bytes: None,
        threads: 0,
    };
    let compiled = compile(&parity_program(), &mut module, &opts).unwrap();
    for needle in [
        ";; apply even? (1)",
        ";; apply odd? (2)",
        ";; code main (0)",
    ] {
        assert!(compiled.clif.contains(needle), "missing {needle}");
    }
    assert!(!compiled.clif.contains(";; apply main (0)"));
    let compiled = compile(
        &sum_loop_program(10),
        &mut jit_module(std::iter::empty()).unwrap(),
        &opts,
    )
    .unwrap();
    assert!(compiled.clif.contains(";; code loop (1)"));
    assert!(!compiled.clif.contains(";; apply loop (1)"));
}

#[test]
fn closure_counter_with_boxed_state() {
    // counter() = box := unbox + 1; unbox   (box is free variable 0)
    let counter = function(
        1,
        "counter",
        &[],
        None,
        1,
        3,
        block(
            vec![
                set(0, Op::EnvGet(0)),
                set(1, Op::BoxGet(v(0))),
                set(2, inline(InlineOp::Add, &[v(1), int(1)])),
                Stmt {
                    var: None,
                    op: Op::BoxSet {
                        cell: v(0),
                        value: v(2),
                        barrier: false,
                    },
                    loc: LocId(0),
                },
            ],
            ret(v(2)),
        ),
    );
    let call = |var: u32| {
        set(
            var,
            Op::Call {
                callee: Callee::Unknown(v(1)),
                args: vec![],
                region: RegionRef::Result,
            },
        )
    };
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        5,
        block(
            vec![
                set(
                    0,
                    Op::Alloc {
                        site: AllocSiteId(0),
                        what: Alloc::Box(int(10)),
                    },
                ),
                set(
                    1,
                    Op::Alloc {
                        site: AllocSiteId(1),
                        what: Alloc::Closure {
                            func: FuncId(1),
                            free: vec![v(0)],
                        },
                    },
                ),
                call(2),
                call(3),
                call(4),
            ],
            ret(v(4)),
        ),
    );
    assert_eq!(
        jit_run(&program(vec![entry, counter], vec![], 0, 2)),
        make_int(13)
    );
}

#[test]
fn cons_list_built_and_summed() {
    // build(i, acc) = i == 0 ? acc : build(i - 1, cons(i, acc))
    let build = function(
        1,
        "build",
        &[0, 1],
        None,
        0,
        5,
        block(
            vec![set(2, inline(InlineOp::NumEq, &[v(0), int(0)]))],
            tail_if(
                v(2),
                block(vec![], ret(v(1))),
                block(
                    vec![
                        set(3, inline(InlineOp::Sub, &[v(0), int(1)])),
                        set(
                            4,
                            Op::Alloc {
                                site: AllocSiteId(0),
                                what: Alloc::Cons(v(0), v(1)),
                            },
                        ),
                    ],
                    tail_call(known(1), &[v(3), v(4)]),
                ),
            ),
        ),
    );
    // sum(l, acc) = empty?(l) ? acc : sum(cdr l, acc + car l)
    let sum = function(
        2,
        "sum",
        &[0, 1],
        None,
        0,
        6,
        block(
            vec![set(2, inline(InlineOp::IsNil, &[v(0)]))],
            tail_if(
                v(2),
                block(vec![], ret(v(1))),
                block(
                    vec![
                        set(3, inline(InlineOp::Car, &[v(0)])),
                        set(4, inline(InlineOp::Cdr, &[v(0)])),
                        set(5, inline(InlineOp::Add, &[v(1), v(3)])),
                    ],
                    tail_call(known(2), &[v(4), v(5)]),
                ),
            ),
        ),
    );
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        2,
        block(
            vec![
                set(
                    0,
                    Op::Call {
                        callee: known(1),
                        args: vec![int(100), Atom::Imm(NIL)],
                        region: RegionRef::Result,
                    },
                ),
                set(
                    1,
                    Op::Prim {
                        prim: pid("length"),
                        args: vec![v(0)],
                        site: None,
                    },
                ),
            ],
            tail_call(known(2), &[v(0), v(1)]),
        ),
    );
    // sum(1..100) plus the initial accumulator length(list) = 100
    assert_eq!(
        jit_run(&program(vec![entry, build, sum], vec![], 0, 1)),
        make_int(5050 + 100)
    );
}

#[test]
fn slow_paths_handle_floats_and_non_ints() {
    // x = 1.5 + 1 (float, via %add); y = x * 2 (%mul); x < 3 (%lt); y >= 5
    // (%ge); result: (x < 3 && y >= 5) ? int(y) - 0 : false
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        6,
        block(
            vec![
                set(0, inline(InlineOp::Add, &[Atom::Const(ConstId(0)), int(1)])),
                set(1, inline(InlineOp::Mul, &[v(0), int(2)])),
                set(2, inline(InlineOp::Lt, &[v(0), int(3)])),
                set(3, inline(InlineOp::Ge, &[v(1), int(5)])),
                set(
                    4,
                    Op::Prim {
                        prim: pid("int"),
                        args: vec![v(1)],
                        site: None,
                    },
                ),
                set(5, inline(InlineOp::Sub, &[v(4), int(0)])),
            ],
            tail_if(
                v(2),
                block(
                    vec![],
                    tail_if(
                        v(3),
                        block(vec![], ret(v(5))),
                        block(vec![], ret(Atom::Imm(NOTHING))),
                    ),
                ),
                block(vec![], ret(Atom::Imm(FALSE))),
            ),
        ),
    );
    let prog = program(vec![entry], vec![Const::Float(1.5)], 0, 0);
    assert_eq!(jit_run(&prog), make_int(5));
}

#[test]
fn rest_parameters_through_apply_and_known_calls() {
    // f(a . rest) = car(rest) - a
    let f = function(
        1,
        "f",
        &[0],
        Some(1),
        0,
        3,
        block(
            vec![
                set(2, inline(InlineOp::Car, &[v(1)])),
                set(2, inline(InlineOp::Sub, &[v(2), v(0)])),
            ],
            ret(v(2)),
        ),
    );
    // main: c = closure f; x = c(10, 52, 99) (via apply); y = f(1, (5)) known
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        5,
        block(
            vec![
                set(
                    0,
                    Op::Alloc {
                        site: AllocSiteId(0),
                        what: Alloc::Closure {
                            func: FuncId(1),
                            free: vec![],
                        },
                    },
                ),
                set(
                    1,
                    Op::Call {
                        callee: Callee::Unknown(v(0)),
                        args: vec![int(10), int(52), int(99)],
                        region: RegionRef::Result,
                    },
                ),
                set(
                    2,
                    Op::Alloc {
                        site: AllocSiteId(1),
                        what: Alloc::Cons(int(5), Atom::Imm(NIL)),
                    },
                ),
                set(
                    3,
                    Op::Call {
                        callee: known(1),
                        args: vec![int(1), v(2)],
                        region: RegionRef::Result,
                    },
                ),
                set(4, inline(InlineOp::Mul, &[v(1), v(3)])),
            ],
            ret(v(4)),
        ),
    );
    assert_eq!(
        jit_run(&program(vec![entry, f], vec![], 0, 2)),
        make_int(42 * 4)
    );
}

#[test]
fn constants_quoted_data_and_non_tail_if() {
    // c0 = '(1 2 (3 4)); c1 = 'sym; c2 = 'sym (interned: eq?); c3 = "str"
    let datum = QuotedDatum::List(vec![
        QuotedDatum::Imm(make_int(1)),
        QuotedDatum::Imm(make_int(2)),
        QuotedDatum::List(vec![
            QuotedDatum::Imm(make_int(3)),
            QuotedDatum::Imm(make_int(4)),
        ]),
        QuotedDatum::Array(vec![QuotedDatum::Str("s".into()), QuotedDatum::Float(0.5)]),
    ]);
    let consts = vec![
        Const::Datum(datum),
        Const::Symbol("sym".into()),
        Const::Symbol("sym".into()),
        Const::Str("hello".into()),
    ];
    let c = |i: u32| Atom::Const(ConstId(i));
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        12,
        block(
            vec![
                set(
                    0,
                    Op::Prim {
                        prim: pid("length"),
                        args: vec![c(0)],
                        site: None,
                    },
                ),
                set(1, inline(InlineOp::Cdr, &[c(0)])),
                set(2, inline(InlineOp::Cdr, &[v(1)])),
                set(3, inline(InlineOp::Car, &[v(2)])),
                set(4, inline(InlineOp::Cdr, &[v(3)])), // (4)
                set(4, inline(InlineOp::Car, &[v(4)])), // 4
                set(5, inline(InlineOp::Eq, &[c(1), c(2)])),
                set(
                    6,
                    Op::Prim {
                        prim: pid("string-length"),
                        args: vec![c(3)],
                        site: None,
                    },
                ),
                set(7, inline(InlineOp::IsPair, &[v(3)])),
                set(8, inline(InlineOp::Not, &[v(7)])),
                // non-tail if: v9 = v5 ? len(list) * 1000 : -1
                set(
                    9,
                    Op::If {
                        cond: v(5),
                        then: block(
                            vec![set(10, inline(InlineOp::Mul, &[v(0), int(1000)]))],
                            Tail::Yield(v(10)),
                        ),
                        els: block(vec![], Tail::Yield(int(-1))),
                    },
                ),
                // v11 = v8 ? 0 : v9 + v4 * 100 + string-length
                set(
                    11,
                    Op::If {
                        cond: v(8),
                        then: block(vec![], Tail::Yield(int(0))),
                        els: block(
                            vec![
                                set(10, inline(InlineOp::Mul, &[v(4), int(100)])),
                                set(10, inline(InlineOp::Add, &[v(10), v(9)])),
                                set(10, inline(InlineOp::Add, &[v(10), v(6)])),
                            ],
                            Tail::Yield(v(10)),
                        ),
                    },
                ),
            ],
            ret(v(11)),
        ),
    );
    assert_eq!(
        jit_run(&program(vec![entry], consts, 0, 0)),
        make_int(4000 + 400 + 5)
    );
}

#[test]
fn arrays_dicts_and_variadic_prims() {
    let entry = function(
        0,
        "main",
        &[],
        None,
        0,
        6,
        block(
            vec![
                set(
                    0,
                    Op::Alloc {
                        site: AllocSiteId(0),
                        what: Alloc::Array(vec![int(7), int(8), int(9)]),
                    },
                ),
                set(
                    1,
                    Op::Prim {
                        prim: pid("array-ref"),
                        args: vec![v(0), int(2)],
                        site: None,
                    },
                ),
                set(
                    2,
                    Op::Alloc {
                        site: AllocSiteId(1),
                        what: Alloc::Dict(vec![int(1), int(100), int(2), int(200)]),
                    },
                ),
                set(
                    3,
                    Op::Prim {
                        prim: pid("get"),
                        args: vec![v(2), int(2)],
                        site: None,
                    },
                ),
                set(
                    4,
                    Op::Prim {
                        prim: pid("list"),
                        args: vec![v(1), v(3), int(1)],
                        site: Some(AllocSiteId(2)),
                    },
                ),
                set(
                    5,
                    Op::PrimApplyList {
                        prim: pid("+"),
                        list: v(4),
                        site: Some(AllocSiteId(3)),
                    },
                ),
            ],
            ret(v(5)),
        ),
    );
    assert_eq!(jit_run(&program(vec![entry], vec![], 0, 4)), make_int(210));
}

#[test]
fn dump_clif_shows_stack_check_and_tail_calls() {
    let prog = sum_loop_program(10);
    let mut module = jit_module(std::iter::empty()).unwrap();
    let opts = CodegenOptions {
        dump_clif: true,
        emit_main: false,
        merge_threshold_bytes: None,
        threads: 0,
    };
    let compiled = compile(&prog, &mut module, &opts).unwrap();
    for needle in [
        ";; code loop (1)",
        ";; omni_entry",
        "get_stack_pointer",
        "return_call",
        "sadd_overflow",
    ] {
        assert!(
            compiled.clif.contains(needle),
            "missing {needle} in\n{}",
            compiled.clif
        );
    }
}

#[test]
fn object_output_defines_main_and_entry() {
    let prog = sum_loop_program(10);
    let mut module = object_module("t", DEFAULT_OPT_LEVEL).unwrap();
    let opts = CodegenOptions {
        dump_clif: false,
        emit_main: true,
        merge_threshold_bytes: None,
        threads: 0,
    };
    compile(&prog, &mut module, &opts).unwrap();
    let bytes = module.finish().emit().unwrap();
    let has = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
    assert!(
        has(b"omni_entry\0")
            && has(b"main\0")
            && has(b"omni_rt_main\0")
            && has(b"omni_rt_stack_limit_cell\0")
    );
}

/// Functions compiled on worker threads are defined in the module in the
/// order they were translated: the object file and the code table are the
/// same bytes for every thread count (codegen/parallel.rs).
#[test]
fn object_output_is_the_same_on_any_number_of_threads() {
    let build = |prog: &Program, threads: usize| {
        let mut module = object_module("t", DEFAULT_OPT_LEVEL).unwrap();
        let opts = CodegenOptions {
            dump_clif: true,
            emit_main: true,
            merge_threshold_bytes: None,
            threads,
        };
        let compiled = compile(prog, &mut module, &opts).unwrap();
        let table: Vec<_> = compiled
            .functions
            .iter()
            .map(|e| {
                (
                    e.func,
                    e.kind,
                    e.symbol.clone(),
                    e.size,
                    e.sites.clone(),
                    e.lines.clone(),
                )
            })
            .collect();
        (module.finish().emit().unwrap(), compiled.clif, table)
    };
    for prog in [parity_program(), sum_loop_program(10)] {
        let one = build(&prog, 1);
        assert!(one.2.len() >= 3, "{:?}", one.2);

        // Several times: the workers' timing differs from run to run.
        for threads in [2, 4, 2, 4, 3] {
            let many = build(&prog, threads);
            assert!(one.0 == many.0, "object differs with {threads} threads");
            assert_eq!(one.1, many.1);
            assert_eq!(one.2, many.2);
        }
    }
}

#[test]
fn malformed_ir_is_an_error_not_a_panic() {
    let mut prog = sum_loop_program(10);
    // known call with the wrong argument count
    prog.functions[0].body.tail = tail_call(known(1), &[int(1)]);
    let mut module = jit_module(std::iter::empty()).unwrap();
    let err = compile(&prog, &mut module, &CodegenOptions::default()).unwrap_err();
    assert!(err.message.contains("known call"), "{}", err.message);
    let mut prog = sum_loop_program(10);
    prog.functions[1].body.stmts.push(set(
        2,
        Op::Prim {
            prim: omni_runtime::prims::PrimId(u16::MAX),
            args: vec![],
            site: None,
        },
    ));
    let mut module = jit_module(std::iter::empty()).unwrap();
    let err = compile(&prog, &mut module, &CodegenOptions::default()).unwrap_err();
    assert!(
        err.message.contains("outside the runtime's table"),
        "{}",
        err.message
    );
    let mut prog = sum_loop_program(10);
    prog.functions[1].body.tail = ret(v(9));
    let mut module = jit_module(std::iter::empty()).unwrap();
    let err = compile(&prog, &mut module, &CodegenOptions::default()).unwrap_err();
    assert!(err.message.contains("variable v9"), "{}", err.message);
}

#[test]
fn location_table_has_unknown_first() {
    let prog = sum_loop_program(1);
    assert_eq!(startup::location_table(&prog), "<unknown>\nt.omni:3:7");
}

#[test]
fn location_table_names_inlined_frames() {
    let mut prog = sum_loop_program(1);
    let mut inlined = prog.locs[1].clone();
    inlined.line = 9;
    inlined.inlined = Some(crate::ir::InlinedAt {
        func: FuncId(1),
        call: LocId(1),
    });
    prog.locs.push(inlined);
    assert_eq!(
        startup::location_table(&prog),
        "<unknown>\nt.omni:3:7\nt.omni:9:7\tloop\t1"
    );
}

/// The IR's name for a primitive (its index in the table).
fn pid(name: &str) -> omni_runtime::prims::PrimId {
    omni_runtime::prims::lookup_id(name).unwrap()
}
