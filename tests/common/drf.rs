//! The precondition of the DRF-SC guarantee as the `go` model implements it,
//! stated without the implementation's code, for the tests that check it
//! (`#[path]`-included).

use hbsim::ir::{Access, Instr, Program};

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
