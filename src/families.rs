//! Parameterised families of litmus tests (`hbsim gen FAMILY N [K]`), for
//! seeing how the cost of exploration grows and for benchmarks.
//!
//! Each family is a classic shape scaled by one or two numbers. A generated test
//! is a [`LitmusBuilder`], so it prints as a RON file ([`LitmusBuilder::to_ron`],
//! with comments saying what grows) or builds into a program. Each comes with a
//! condition and its expected observation under `sc`, `tso`, `pso` and `go`,
//! argued in [`Family::describe`] and in the printed comments.

use std::fmt;

use crate::ir::Observation;
use crate::syntax::LitmusBuilder;

/// The largest `N` (threads or hops) and `K` (stores or loads per thread) a
/// family accepts: beyond these, exploration takes far longer than anyone waits.
pub const MAX_N: usize = 32;
/// See [`MAX_N`].
pub const MAX_K: usize = 32;

/// A family of tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `sb N`: thread i stores `x_i`, then loads `x_(i+1 mod N)`.
    Sb,
    /// `sb-mfence N`: `sb N` with a fence between each store and load.
    SbMfence,
    /// `writers N K`: N threads each store K distinct values to one variable.
    Writers,
    /// `writers-read N K`: `writers N K` plus one thread loading the variable K times.
    WritersRead,
    /// `iriw M`: two writers and M readers reading the two variables in
    /// alternating order.
    Iriw,
    /// `mp-chain N`: a message passed along a chain of N hops.
    MpChain,
    /// `ainc N`: N threads each atomically increment one variable.
    Ainc,
}

/// Why a family cannot be generated with the numbers given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FamilyError {
    /// No family has this name.
    #[error("unknown family `{0}`; the families are: {names}", names = Family::names())]
    Unknown(String),
    /// A number is outside the family's range.
    #[error("{family}: {what} must be between {min} and {max}, found {found}")]
    OutOfRange {
        /// The family.
        family: Family,
        /// Which number.
        what: &'static str,
        /// The smallest allowed.
        min: usize,
        /// The largest allowed.
        max: usize,
        /// The number given.
        found: usize,
    },
    /// The family needs a second number, or takes none.
    #[error("{family} {usage}: {problem}")]
    Arity {
        /// The family.
        family: Family,
        /// Its usage.
        usage: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
}

impl Family {
    /// Every family, in the order `hbsim gen --help` lists them.
    pub const ALL: [Family; 7] = [
        Family::Sb,
        Family::SbMfence,
        Family::Writers,
        Family::WritersRead,
        Family::Iriw,
        Family::MpChain,
        Family::Ainc,
    ];

    /// The family's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Family::Sb => "sb",
            Family::SbMfence => "sb-mfence",
            Family::Writers => "writers",
            Family::WritersRead => "writers-read",
            Family::Iriw => "iriw",
            Family::MpChain => "mp-chain",
            Family::Ainc => "ainc",
        }
    }

    /// The family called `name`.
    ///
    /// # Errors
    /// [`FamilyError::Unknown`], listing the families.
    pub fn from_name(name: &str) -> Result<Family, FamilyError> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| FamilyError::Unknown(name.to_string()))
    }

    fn names() -> String {
        Family::ALL.map(Family::name).join(", ")
    }

    /// How the family is invoked: `sb N`, `writers N K`, ...
    pub fn usage(self) -> &'static str {
        match self {
            Family::Sb | Family::SbMfence | Family::MpChain | Family::Ainc => "N",
            Family::Writers | Family::WritersRead => "N K",
            Family::Iriw => "M",
        }
    }

    /// What the family is, what grows, and why its condition is observed as
    /// it is under each model.
    pub fn describe(self) -> &'static [&'static str] {
        match self {
            Family::Sb => &[
                "Store buffering around a ring: thread i stores 1 to x_i, then loads x_(i+1 mod N).",
                "Grows with N: threads, variables, and store-buffer contents.",
                "Every load reading 0: never under sc (the last load runs after every store);",
                "sometimes under tso and pso (all stores still buffered) and go (plain racy loads",
                "may run early and may observe the initial values).",
            ],
            Family::SbMfence => &[
                "Store buffering around a ring with a fence between each store and load.",
                "Grows with N: threads and variables.",
                "Every load reading 0: never under sc, tso and pso (each fence drains its buffer);",
                "sometimes under go (a fence orders nothing in happens-before, and a racy load",
                "may observe the initial value).",
            ],
            Family::Writers => &[
                "N threads each store K distinct values to x (thread i stores i*K+1 .. i*K+K).",
                "Grows with N and K: the interleavings of N*K stores to one variable.",
                "x ending with thread 0's last store (x=K): sometimes under every model when N > 1",
                "(thread 0 may run last), always when N = 1.",
            ],
            Family::WritersRead => &[
                "writers N K plus one more thread loading x K times (r0 .. r(K-1)).",
                "Grows with N and K: the stores' interleavings times the loads' choices.",
                "x ending with thread 0's last store (x=K): as for writers N K.",
            ],
            Family::Iriw => &[
                "Independent reads of independent writes: thread 0 stores x=1, thread 1 stores y=1,",
                "and M readers load both, even readers x then y, odd readers y then x.",
                "Grows with M: readers and their loads.",
                "The first two readers seeing the stores in opposite orders: never under sc, tso and",
                "pso (one shared memory: every thread sees stores in one order); sometimes under go",
                "(plain racy loads may run early and may observe the initial values).",
            ],
            Family::MpChain => &[
                "Message passing along a chain: thread 0 stores d=1 then f1=1; thread i (1 <= i < N)",
                "loads f_i and stores what it read to f_(i+1); thread N loads f_N, then d.",
                "Grows with N: hops (threads) and flags.",
                "The last thread seeing the flag but not the data (N:r0=1 /\\ N:r1=0): never under sc",
                "and tso (stores leave each buffer in order, loads stay in order); sometimes under pso",
                "(d=1 and f1=1 may reach memory in either order) and go (the plain accesses race).",
            ],
            Family::Ainc => &[
                "N threads each atomically add 1 to x (FetchAdd).",
                "Grows with N: the N! orders of the increments.",
                "x ending as N: always, under every model (read-modify-writes are atomic).",
            ],
        }
    }

    /// The number of threads of the test for `n` (and `k`).
    fn threads(self, n: usize) -> usize {
        match self {
            Family::Iriw => n + 2,
            Family::WritersRead | Family::MpChain => n + 1,
            _ => n,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The test of `family` for `n` (and `k`, for the families that take two numbers).
///
/// # Errors
/// [`FamilyError`] when a number is out of range, or `k` is missing or extra.
///
/// # Example
/// ```
/// use hbsim::families::{Family, generate};
///
/// let sb = generate(Family::Sb, 3, None).unwrap();
/// assert_eq!(sb.build().unwrap().program.threads.len(), 3);
/// assert!(sb.to_ron().starts_with("// sb 3:"));
/// ```
pub fn generate(family: Family, n: usize, k: Option<usize>) -> Result<LitmusBuilder, FamilyError> {
    let min_n = match family {
        Family::Sb | Family::SbMfence | Family::Iriw => 2,
        _ => 1,
    };
    check_range(family, "N", n, min_n, MAX_N)?;
    let two_numbers = matches!(family, Family::Writers | Family::WritersRead);
    let k = match (two_numbers, k) {
        (true, Some(k)) => check_range(family, "K", k, 1, MAX_K).map(|()| k)?,
        (true, None) => return Err(arity(family, "K is missing")),
        (false, Some(_)) => return Err(arity(family, "it takes no K")),
        (false, None) => 0,
    };
    let title = match k {
        0 => format!("{family} {n}"),
        k => format!("{family} {n} {k}"),
    };
    let mut test = LitmusBuilder::new(&title.replace(' ', "-"));
    test = test.comment(&format!(
        "{title}: generated by `hbsim gen {title}` ({} threads).",
        family.threads(n)
    ));
    for line in family.describe() {
        test = test.comment(line);
    }
    let (test, condition, expected) = match family {
        Family::Sb | Family::SbMfence => {
            let fenced = family == Family::SbMfence;
            let test = (0..n).fold(test, |test, i| {
                test.thread(|t| {
                    let t = t.store(&format!("x{i}"), 1);
                    let t = if fenced { t.fence() } else { t };
                    t.load("r0", &format!("x{}", (i + 1) % n))
                })
            });
            let all_zero: Vec<String> = (0..n).map(|i| format!("{i}:r0=0")).collect();
            let condition = format!("exists ({})", all_zero.join(" /\\ "));
            let relaxed = if fenced { Never } else { Sometimes };
            (test, condition, [Never, relaxed, relaxed, Sometimes])
        }
        Family::Writers | Family::WritersRead => {
            let mut test = (0..n).fold(test, |test, i| {
                test.thread(|t| (1..=k).fold(t, |t, j| t.store("x", (i * k + j) as i64)))
            });
            if family == Family::WritersRead {
                test = test.thread(|t| (0..k).fold(t, |t, j| t.load(&format!("r{j}"), "x")));
            }
            let observed = if n == 1 { Always } else { Sometimes };
            (test, format!("exists (x={k})"), [observed; 4])
        }
        Family::Iriw => {
            let mut test = test.thread(|t| t.store("x", 1)).thread(|t| t.store("y", 1));
            for j in 0..n {
                let (first, second) = if j % 2 == 0 { ("x", "y") } else { ("y", "x") };
                test = test.thread(|t| t.load("r0", first).load("r1", second));
            }
            let condition = "exists (2:r0=1 /\\ 2:r1=0 /\\ 3:r0=1 /\\ 3:r1=0)".to_string();
            (test, condition, [Never, Never, Never, Sometimes])
        }
        Family::MpChain => {
            let mut test = test.thread(|t| t.store("d", 1).store("f1", 1));
            for i in 1..n {
                test = test.thread(|t| {
                    t.load("r0", &format!("f{i}"))
                        .store(&format!("f{}", i + 1), "r0")
                });
            }
            test = test.thread(|t| t.load("r0", &format!("f{n}")).load("r1", "d"));
            let condition = format!("exists ({n}:r0=1 /\\ {n}:r1=0)");
            (test, condition, [Never, Never, Sometimes, Sometimes])
        }
        Family::Ainc => {
            let test = (0..n).fold(test, |test, _| test.thread(|t| t.fetch_add("r0", "x", 1)));
            (test, format!("forall (x={n})"), [Always; 4])
        }
    };
    let test = test.condition(&condition);
    Ok(["sc", "tso", "pso", "go"]
        .into_iter()
        .zip(expected)
        .fold(test, |test, (model, observation)| {
            test.expect(model, observation)
        }))
}

use Observation::{Always, Never, Sometimes};

fn check_range(
    family: Family,
    what: &'static str,
    found: usize,
    min: usize,
    max: usize,
) -> Result<(), FamilyError> {
    if (min..=max).contains(&found) {
        Ok(())
    } else {
        Err(FamilyError::OutOfRange {
            family,
            what,
            min,
            max,
            found,
        })
    }
}

fn arity(family: Family, problem: &'static str) -> FamilyError {
    FamilyError::Arity {
        family,
        usage: family.usage(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_builds_at_its_smallest_and_a_larger_size() {
        for family in Family::ALL {
            let k = matches!(family, Family::Writers | Family::WritersRead).then_some(2);
            for n in [2, 4] {
                let test = generate(family, n, k).unwrap().build().unwrap();
                assert_eq!(
                    test.program.threads.len(),
                    family.threads(n),
                    "{family} {n}"
                );
                assert_eq!(test.program.expectations.len(), 4, "{family} {n}");
            }
        }
    }

    #[test]
    fn bad_numbers_are_refused_with_the_reason() {
        assert_eq!(
            generate(Family::Sb, 1, None).unwrap_err().to_string(),
            "sb: N must be between 2 and 32, found 1"
        );
        assert_eq!(
            generate(Family::Writers, 3, None).unwrap_err().to_string(),
            "writers N K: K is missing"
        );
        assert_eq!(
            generate(Family::Ainc, 3, Some(2)).unwrap_err().to_string(),
            "ainc N: it takes no K"
        );
        assert!(
            Family::from_name("sbb")
                .unwrap_err()
                .to_string()
                .contains("sb, sb-mfence, writers")
        );
    }
}
