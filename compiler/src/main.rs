//! `omnic`: the OmniLisp compiler driver entry point.

mod codegen;
mod ctrr;
mod diag;
mod driver;
mod expand;
mod fmt;
mod ir;
mod lsp;
mod syntax;

fn main() {
    std::process::exit(driver::main());
}
