//! hbsim: a happens-before memory-model simulator.
//!
//! hbsim answers "can this outcome happen, and why?" for small concurrent
//! programs (litmus tests). It runs every interleaving of thread steps and store
//! buffer commits that a memory model permits, and reports every outcome (a
//! final state, a deadlock, a leak, non-termination, a panic), how many
//! executions reach it, a replayable witness for each, and a verdict for
//! the test's condition and for every expectation written in the file.
//!
//! # What it guarantees
//!
//! Within [`explore::Limits`], exploration is **exhaustive**: the outcome set is
//! exactly the set of outcomes the model's machine can reach, and the result says
//! [`explore::Completeness::Exhaustive`]. When a limit or a cancellation stops it
//! early the result says so ([`explore::Completeness::Truncated`] or
//! [`explore::Completeness::Interrupted`]) and verdicts that the outcomes found do
//! not decide are inconclusive. Nothing is silently partial.
//!
//! The models are the store-buffer machines of [`model`] (sequential
//! consistency, x86-TSO, SPARC PSO, and variants described in model files) and
//! the Go memory model. Every execution also has a happens-before order
//! ([`hb`]): hbsim reports which writes each read may observe, the data races,
//! and which outcomes only racy executions reach.
//!
//! # Pipeline
//!
//! ```text
//! RON or herd7 text ──syntax::parse_source──▶ ir::Program ──explore::Explorer──▶ Exploration
//!     ──report::RunReport::new──▶ verdicts ──report::{text,json,herd}──▶ output
//! ```
//!
//! Each stage only uses the ones to its left; the library never prints.
//!
//! # Example
//! ```
//! use hbsim::{explore::explore, model::Model, report::RunReport, syntax::parse_str};
//! use hbsim::ir::Observation;
//!
//! let test = parse_str(r#"
//!     Litmus(
//!         name: "SB",
//!         threads: [
//!             [ Store("x", 1), Load("r0", "y") ],
//!             [ Store("y", 1), Load("r0", "x") ],
//!         ],
//!         condition: "exists (0:r0=0 /\\ 1:r0=0)",
//!         expect: { "sc": Never, "tso": Sometimes },
//!     )"#, "sb.ron").unwrap();
//! for model in [Model::sc(), Model::tso()] {
//!     let run = RunReport::new(&test.program, "sb.ron", &model, explore(&test.program, &model));
//!     assert_eq!(run.status(), Some(hbsim::verdict::Status::Held));
//! }
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod check;
pub mod explore;
pub mod families;
pub mod graph;
pub mod hb;
pub mod ir;
pub mod model;
pub mod outcome;
pub mod report;
pub mod syntax;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
mod varint;
pub mod verdict;

/// docs/testing.md, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/testing.md")]
pub struct TestingGuide;

/// The README, whose Rust example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct Readme;
