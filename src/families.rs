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
/// The largest channel capacity (`CAP`) a family accepts: as in a litmus file.
pub const MAX_CAPACITY: usize = 16;

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
    /// `mutex-counter N`: N threads each increment one variable under a mutex.
    MutexCounter,
    /// `chan-pipeline P C CAP`: P producers send one value each into a
    /// channel of capacity CAP; C consumers receive P/C values each.
    ChanPipeline,
    /// `waitgroup N`: main starts N goroutines that each store a variable,
    /// waits for them with a wait group, then reads every variable.
    WaitGroup,
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
    /// The family takes another count of numbers, or numbers that do not fit
    /// together.
    #[error("{family} {usage}: {problem}")]
    Arity {
        /// The family.
        family: Family,
        /// Its usage.
        usage: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl Family {
    /// Every family, in the order `hbsim gen --help` lists them.
    pub const ALL: [Family; 10] = [
        Family::Sb,
        Family::SbMfence,
        Family::Writers,
        Family::WritersRead,
        Family::Iriw,
        Family::MpChain,
        Family::Ainc,
        Family::MutexCounter,
        Family::ChanPipeline,
        Family::WaitGroup,
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
            Family::MutexCounter => "mutex-counter",
            Family::ChanPipeline => "chan-pipeline",
            Family::WaitGroup => "waitgroup",
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
            Family::Sb
            | Family::SbMfence
            | Family::MpChain
            | Family::Ainc
            | Family::MutexCounter
            | Family::WaitGroup => "N",
            Family::Writers | Family::WritersRead => "N K",
            Family::Iriw => "M",
            Family::ChanPipeline => "P C CAP",
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
            Family::MutexCounter => &[
                "N threads each lock m, load x, store x+1 and unlock m.",
                "Grows with N: the orders of the critical sections.",
                "x ending as N: always, under every model (each Unlock is synchronised before the",
                "next Lock, so each section reads the previous section's store; race-free).",
            ],
            Family::ChanPipeline => &[
                "P producers each send one value (i+1) into channel c of capacity CAP (0: unbuffered);",
                "C consumers each receive P/C values.",
                "Grows with P, C and CAP: the orders of sends and receives and the buffer's contents.",
                "No deadlock and no leak: always, under every model (as many receives as sends, so",
                "a blocked sender always has a receiver to come and a blocked receiver a value).",
            ],
            Family::WaitGroup => &[
                "main adds N to wait group wg, starts N goroutines that each store x_i=1 and call",
                "Done, waits, then loads every x_i.",
                "Grows with N: goroutines and the orders of their stores and Dones.",
                "main reading every x_i as 1: always, under every model (each Done is synchronised",
                "before Wait returns; race-free).",
            ],
        }
    }

    /// The number of threads of the test for `numbers`.
    fn threads(self, numbers: &[usize]) -> usize {
        match self {
            Family::Iriw => numbers[0] + 2,
            Family::WritersRead | Family::MpChain | Family::WaitGroup => numbers[0] + 1,
            Family::ChanPipeline => numbers[0] + numbers[1],
            _ => numbers[0],
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The test of `family` for `numbers` (as its [`Family::usage`] names them:
/// `[n]`, `[n, k]` or `[p, c, cap]`).
///
/// # Errors
/// [`FamilyError`] when a number is out of range, or there are too few or too
/// many.
///
/// # Example
/// ```
/// use hbsim::families::{Family, generate};
///
/// let sb = generate(Family::Sb, &[3]).unwrap();
/// assert_eq!(sb.build().unwrap().program.threads.len(), 3);
/// assert!(sb.to_ron().starts_with("// sb 3:"));
/// ```
pub fn generate(family: Family, numbers: &[usize]) -> Result<LitmusBuilder, FamilyError> {
    let names: Vec<&'static str> = family.usage().split(' ').collect();
    if numbers.len() != names.len() {
        let problem = match names.get(numbers.len()) {
            Some(missing) => format!("{missing} is missing"),
            None => format!("too many numbers, found {}", numbers.len()),
        };
        return Err(arity(family, problem));
    }
    for (&found, &what) in numbers.iter().zip(&names) {
        let (min, max) = match (family, what) {
            (Family::Sb | Family::SbMfence | Family::Iriw, _) => (2, MAX_N),
            (Family::ChanPipeline, "CAP") => (0, MAX_CAPACITY),
            (_, "K") => (1, MAX_K),
            _ => (1, MAX_N),
        };
        check_range(family, what, found, min, max)?;
    }
    let n = numbers[0];
    let title = std::iter::once(family.name().to_string())
        .chain(numbers.iter().map(usize::to_string))
        .collect::<Vec<_>>()
        .join(" ");
    let mut test = LitmusBuilder::new(&title.replace(' ', "-"));
    test = test.comment(&format!(
        "{title}: generated by `hbsim gen {title}` ({} threads).",
        family.threads(numbers)
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
            let k = numbers[1];
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
        Family::MutexCounter => {
            let test = (0..n).fold(test, |test, _| {
                test.thread(|t| t.lock("m").load("r0", "x").store("x", "r0 + 1").unlock("m"))
            });
            (test, format!("forall (x={n})"), [Always; 4])
        }
        Family::ChanPipeline => {
            let (producers, consumers, capacity) = (n, numbers[1], numbers[2]);
            if producers % consumers != 0 {
                return Err(arity(family, "C must divide P".to_string()));
            }
            let test = (0..producers).fold(test.channel("c", capacity as i64), |test, i| {
                test.thread(|t| t.send("c", i as i64 + 1))
            });
            let test = (0..consumers).fold(test, |test, _| {
                test.thread(|t| {
                    (0..producers / consumers).fold(t, |t, j| t.recv(&format!("r{j}"), "c"))
                })
            });
            let condition = "forall (~deadlock /\\ ~leak)".to_string();
            (test, condition, [Always; 4])
        }
        Family::WaitGroup => {
            let test = test.thread(|t| {
                let t = (1..=n).fold(t.add("wg", n as i64), |t, i| t.go(&format!("P{i}")));
                (1..=n).fold(t.wait("wg"), |t, i| {
                    t.load(&format!("r{i}"), &format!("x{i}"))
                })
            });
            let test = (1..=n).fold(test, |test, i| {
                test.thread(|t| t.store(&format!("x{i}"), 1).done("wg"))
            });
            let all_one: Vec<String> = (1..=n).map(|i| format!("0:r{i}=1")).collect();
            let condition = format!("forall ({})", all_one.join(" /\\ "));
            (test, condition, [Always; 4])
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

fn arity(family: Family, problem: String) -> FamilyError {
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
            for n in [2, 4] {
                let numbers: Vec<usize> = match family.usage() {
                    "N K" => vec![n, 2],
                    "P C CAP" => vec![n, 2, 1],
                    _ => vec![n],
                };
                let test = generate(family, &numbers).unwrap().build().unwrap();
                assert_eq!(
                    test.program.threads.len(),
                    family.threads(&numbers),
                    "{family} {n}"
                );
                assert_eq!(test.program.expectations.len(), 4, "{family} {n}");
            }
        }
    }

    #[test]
    fn bad_numbers_are_refused_with_the_reason() {
        assert_eq!(
            generate(Family::Sb, &[1]).unwrap_err().to_string(),
            "sb: N must be between 2 and 32, found 1"
        );
        assert_eq!(
            generate(Family::Writers, &[3]).unwrap_err().to_string(),
            "writers N K: K is missing"
        );
        assert_eq!(
            generate(Family::Ainc, &[3, 2]).unwrap_err().to_string(),
            "ainc N: too many numbers, found 2"
        );
        assert_eq!(
            generate(Family::ChanPipeline, &[3, 2, 0])
                .unwrap_err()
                .to_string(),
            "chan-pipeline P C CAP: C must divide P"
        );
        assert_eq!(
            generate(Family::ChanPipeline, &[2, 1, 17])
                .unwrap_err()
                .to_string(),
            "chan-pipeline: CAP must be between 0 and 16, found 17"
        );
        assert!(
            Family::from_name("sbb")
                .unwrap_err()
                .to_string()
                .contains("sb, sb-mfence, writers")
        );
    }
}
