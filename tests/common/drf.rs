//! The precondition of the DRF-SC guarantee as the `go` model implements it,
//! stated without the implementation's code, for the tests that check it
//! (`#[path]`-included), and random programs in the shapes where it matters.

#![allow(dead_code)] // each test crate uses part of it

use hbsim::ir::{Access, Instr, Program};
use proptest::prelude::*;

/// Whether some variable is read plainly and written atomically by two or
/// more threads: the one kind of race-free program whose `go` outcomes may
/// exceed its `sc` ones (docs/models.md, `go` rule 2, "Consequences";
/// `litmus/go/atomic-writes-plain-read.ron`).
pub fn plain_read_of_atomic_writes(program: &Program) -> bool {
    (0..program.locs.len()).any(|l| {
        let atomic_writer = |code: &[Instr]| {
            code.iter().any(|i| match i {
                Instr::Store {
                    loc,
                    access: Access::Atomic,
                    ..
                }
                | Instr::Rmw { loc, .. } => loc.index() == l,
                _ => false,
            })
        };
        let plain_reader = |code: &[Instr]| {
            code.iter().any(
                |i| matches!(i, Instr::Load { loc, access: Access::Plain, .. } if loc.index() == l),
            )
        };
        let writers = program.threads.iter().filter(|t| atomic_writer(&t.code));
        writers.count() >= 2 && program.threads.iter().any(|t| plain_reader(&t.code))
    })
}

/// One block of a synchronised random program over data `x`, `y` and flag
/// `f`: `(kind, variable, value)`. Published data (a plain access guarded by
/// an atomic read of the flag), data under a mutex, plain accesses, atomic
/// stores and loads, read-modify-writes and flag stores: the shapes in which
/// race-free programs use plain and atomic accesses together.
fn sync_block((kind, var, value): (u8, usize, i64), slot: usize) -> String {
    let var = ["x", "y"][var];
    let (r, g) = (format!("r{slot}"), format!("g{slot}"));
    match kind {
        0 => format!(r#"AtomicStore("{var}", {value})"#),
        1 => format!(r#"AtomicLoad("{r}", "{var}")"#),
        2 => format!(r#"FetchAdd("{r}", "{var}", {value})"#),
        3 => format!(r#"AtomicStore("f", {value})"#),
        4 => format!(
            r#"AtomicLoad("{g}", "f"), If(cond: "{g} == {value}", then: [ Load("{r}", "{var}") ])"#
        ),
        5 => format!(
            r#"AtomicLoad("{g}", "f"), If(cond: "{g} == {value}", then: [ Store("{var}", {value}) ])"#
        ),
        6 => format!(r#"Lock("m"), Load("{r}", "{var}"), Unlock("m")"#),
        7 => format!(r#"Lock("m"), Store("{var}", {value}), Unlock("m")"#),
        8 => format!(r#"Load("{r}", "{var}")"#),
        _ => format!(r#"Store("{var}", {value})"#),
    }
}

/// 2 or 3 threads of 1 to 4 blocks.
pub fn synchronised_program() -> impl Strategy<Value = String> {
    let block = (0u8..10, 0usize..2, 1i64..3);
    prop::collection::vec(prop::collection::vec(block, 1..=4), 2..=3).prop_map(|threads| {
        let threads: Vec<String> = threads
            .into_iter()
            .map(|blocks| {
                let code: Vec<String> = blocks
                    .into_iter()
                    .enumerate()
                    .map(|(slot, b)| sync_block(b, slot))
                    .collect();
                format!("[ {} ]", code.join(", "))
            })
            .collect();
        format!(
            r#"Litmus(name: "synchronised", threads: [ {} ], condition: "exists true")"#,
            threads.join(", ")
        )
    })
}
