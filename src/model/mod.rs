//! Memory models: store-buffer machines, and the Go memory model (`ModelKind::Go`).
//!
//! Every hardware model is one operational machine with three settings
//! (docs/models.md has the same rules for users):
//!
//! | setting | `sc` | `tso` | `pso` |
//! |---|---|---|---|
//! | buffer shape | none | one FIFO per thread | one FIFO per thread and variable |
//! | bound on entries per buffer | n/a | unbounded | unbounded |
//! | store forwarding | n/a | on | on |
//!
//! The machine's steps are:
//! - a **thread step** executes the thread's next instruction. A plain store enters
//!   the store buffer (or memory, without buffers; a full bounded buffer blocks the
//!   store). A load reads the newest entry for its variable in its own buffers if
//!   there is one (store forwarding; with forwarding off the load waits until that
//!   entry has reached memory), else memory. A fence, and every atomic
//!   read-modify-write, waits until the thread's buffers are empty; the RMW then
//!   reads and writes memory in one step.
//! - a **commit step** moves the oldest entry of one buffer to memory.
//!
//! Register-only instructions (`Let`, jumps) touch nothing shared, so they run
//! eagerly as part of the thread's preceding step; this changes no outcome.
//!
//! Sources: Sewell, Sarkar, Owens, Zappa Nardelli, Myreen, "x86-TSO: A Rigorous and
//! Usable Programmer's Model for x86 Multiprocessors", CACM 53(7), 2010 (the TSO
//! machine); SPARC International, "The SPARC Architecture Manual, Version 8",
//! 1992, appendix K (TSO and PSO); Lamport, "How to Make a Multiprocessor Computer
//! That Correctly Executes Multiprocess Programs", 1979 (SC).

pub(crate) mod clocks;
mod file;
pub(crate) mod go;
pub(crate) mod machine;
pub(crate) mod partial_order;
pub(crate) mod races;
pub(crate) mod state;
pub(crate) mod store_buffer;
pub(crate) mod symmetry;
pub(crate) mod sync;

use serde::{Deserialize, Serialize};

pub use file::{load_model_file, parse_model_str};

/// How many instructions past its pc a goroutine may run a plain access
/// early under the `go` model (rule 3 of docs/models.md); an exploration in
/// which a run needed more ends [`crate::explore::Limit::Window`].
pub const GO_LOOK_AHEAD: usize = go::WINDOW;

/// Where plain stores wait before reaching memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BufferShape {
    /// No buffers: stores write memory directly (sequential consistency).
    None,
    /// One FIFO per thread: stores reach memory in program order (TSO).
    PerThread,
    /// One FIFO per thread and variable: stores to different variables may reach
    /// memory out of program order (PSO).
    PerThreadPerLocation,
}

/// Whether a load may read its own thread's buffered store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Forwarding {
    /// A load reads the newest buffered store to its variable (x86, SPARC).
    Enabled,
    /// A load of a variable with a buffered store waits until the store is in
    /// memory (IBM System/370 style).
    Disabled,
}

/// A memory model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Model {
    /// Short name used on the command line and in `expect` keys.
    pub name: String,
    /// One line for `hbsim models` and reports.
    pub description: String,
    /// How memory behaves.
    pub kind: ModelKind,
}

/// The two machines hbsim runs programs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ModelKind {
    /// A store-buffer machine (`sc`, `tso`, `pso`, model files).
    StoreBuffers(StoreBufferConfig),
    /// The Go memory model (docs/models.md, "go").
    Go,
}

/// The settings of a store-buffer machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct StoreBufferConfig {
    /// Buffer organisation.
    pub buffer: BufferShape,
    /// Maximum entries per buffer; a store to a full buffer waits. `None` is unbounded.
    pub bound: Option<u32>,
    /// Store forwarding.
    pub forwarding: Forwarding,
}

impl Model {
    fn store_buffers(name: &str, description: &str, buffer: BufferShape) -> Model {
        Model {
            name: name.to_string(),
            description: description.to_string(),
            kind: ModelKind::StoreBuffers(StoreBufferConfig {
                buffer,
                bound: None,
                forwarding: Forwarding::Enabled,
            }),
        }
    }

    /// Sequential consistency: one global memory, no buffers.
    pub fn sc() -> Model {
        Model::store_buffers(
            "sc",
            "sequential consistency: every instruction acts on memory at once, in some interleaving",
            BufferShape::None,
        )
    }

    /// x86-TSO: one FIFO store buffer per thread, with forwarding.
    pub fn tso() -> Model {
        Model::store_buffers(
            "tso",
            "x86-TSO: a FIFO store buffer per thread; loads may overtake earlier stores",
            BufferShape::PerThread,
        )
    }

    /// SPARC PSO: one FIFO per thread and variable, with forwarding.
    pub fn pso() -> Model {
        Model::store_buffers(
            "pso",
            "SPARC PSO: a FIFO store buffer per thread and variable; stores to different variables may also reorder",
            BufferShape::PerThreadPerLocation,
        )
    }

    /// The Go memory model's rule for racy programs.
    pub fn go() -> Model {
        Model {
            name: "go".to_string(),
            description: "the Go memory model: atomics are sequentially consistent; a plain read may observe any write not overwritten in happens-before".to_string(),
            kind: ModelKind::Go,
        }
    }

    /// The built-in models, weakest last.
    pub fn builtins() -> Vec<Model> {
        vec![Model::sc(), Model::tso(), Model::pso(), Model::go()]
    }

    /// A built-in model by name.
    pub fn builtin(name: &str) -> Option<Model> {
        Model::builtins().into_iter().find(|m| m.name == name)
    }

    /// The store-buffer settings, for store-buffer models.
    pub fn store_buffers_config(&self) -> Option<StoreBufferConfig> {
        match self.kind {
            ModelKind::StoreBuffers(config) => Some(config),
            ModelKind::Go => None,
        }
    }
}
