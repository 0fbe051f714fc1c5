//! Lazy scope regions: a function whose scope region would only ever hold
//! the Float results of inline arithmetic (`+ - *` whose slow path
//! allocates) creates it on the slow path, the first time such an op
//! actually allocates, instead of on entry. Integer code then pays nothing
//! for the region (its exits test the handle and skip), while a Float
//! temporary still lives only as long as its scope (docs/CTRR.md).
//!
//! The decision needs every site's placed region, so it runs after
//! `place::place_sites`: the function's `RegionCreate` becomes
//! `RegionCreateLazy` when nothing but inline-op sites is placed in it and
//! its handle is used by nothing but its exits.

use crate::ir::visit::{walk_block, walk_block_mut, walk_tails};
use crate::ir::*;

/// Make the scope region of every function lazy where that is allowed.
pub fn make_lazy(prog: &mut Program) {
    let sites: Vec<RegionRef> = prog.alloc_sites.iter().map(|s| s.region).collect();
    for func in &mut prog.functions {
        let Some(local) = scope_var(&func.body) else {
            continue;
        };
        if only_inline_uses(&func.body, local, &sites) {
            walk_block_mut(&mut func.body, &mut |st| {
                if st.var == Some(local) && matches!(st.op, Op::RegionCreate) {
                    st.op = Op::RegionCreateLazy;
                }
            });
        }
    }
}

/// The variable bound by the function's `RegionCreate` (inserted first in
/// its body by `scopes::insert_scope`).
fn scope_var(body: &Block) -> Option<VarId> {
    body.stmts.iter().find_map(|st| match st.op {
        Op::RegionCreate => st.var,
        _ => None,
    })
}

fn only_inline_uses(body: &Block, local: VarId, sites: &[RegionRef]) -> bool {
    let here = RegionRef::Local(local);
    let mine = Atom::Var(local);
    let mut ok = true;
    walk_block(body, &mut |st| match &st.op {
        Op::RegionExit(a) if *a == mine => {}
        Op::Call { region, .. } if *region == here => ok = false,
        op => {
            if let Some(site) = op.alloc_site() {
                let inline = matches!(op, Op::Inline(..));
                ok &= inline || sites.get(site.0 as usize) != Some(&here);
            }
            ok &= !op.operands().contains(&mine);
        }
    });
    walk_tails(body, &mut |t| {
        ok &= !match t {
            Tail::Call { args, .. } => args.contains(&mine),
            Tail::Return(a) | Tail::Yield(a) | Tail::If { cond: a, .. } => *a == mine,
        }
    });
    ok
}
