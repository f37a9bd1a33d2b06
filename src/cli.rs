//! Command-line arguments, and their validation into a [`RunConfig`].

use std::io;
use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand, ValueEnum};
use hbsim::explore::{EngineChoice, Limits};
use hbsim::families::Family;
use hbsim::model::{self, Model};
use hbsim::syntax::{self, LitmusTest, LoadError};

/// hbsim: every outcome a litmus test can reach under SC, x86-TSO, PSO, the Go
/// memory model and configurable store-buffer models, with its data races and a
/// verdict for every expectation.
#[derive(Debug, Parser)]
#[command(name = "hbsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explore litmus tests and check their expectations.
    Run(RunArgs),
    /// Show one execution reaching an outcome: step by step, what each read may
    /// observe and why, and its data races.
    Explain(ExplainArgs),
    /// Print the RON litmus file equivalent to a herd7 `.litmus` test.
    Convert(ConvertArgs),
    /// Print a test of a parameterised family, to see how exploration grows:
    /// sb N, sb-mfence N, writers N K, writers-read N K, iriw M, mp-chain N,
    /// ainc N, mutex-counter N, waitgroup N, chan-pipeline P C CAP.
    Gen(GenArgs),
    /// List the built-in models.
    Models,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Litmus files (RON or herd7 X86), or directories searched recursively for
    /// `*.ron` and `*.litmus`; `-` reads one test from standard input (named
    /// `<stdin>` in messages), as in `hbsim gen sb 4 | hbsim run -`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Models to explore: `sc`, `tso`, `pso`, `go`, `all`, or a model file (repeat the
    /// flag or separate with commas). Default: the models each file's
    /// expectations name, else all built-in models.
    #[arg(long, short, value_delimiter = ',')]
    pub model: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write one Graphviz file per outcome into this directory, named after the
    /// test, the model and the outcome (`TEST.MODEL.OUTCOME.dot`; tests sharing
    /// a name get `-2`, `-3`, ...; see docs/happens-before.md).
    #[arg(long, value_name = "DIR")]
    pub graphs: Option<PathBuf>,

    /// Fail (exit code 1) every run in which some execution has a data race.
    #[arg(long)]
    pub deny_races: bool,

    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The litmus file; `-` reads it from standard input.
    pub file: PathBuf,

    /// The model: `sc`, `tso`, `pso`, `go` or a model file. Default: the first
    /// built-in model the file's expectations name, else `tso` (a file whose
    /// expectations name only model files needs the file given here).
    #[arg(long, short)]
    pub model: Option<String>,

    /// Which outcome: its number in `hbsim run`'s list (1 is the first), or a
    /// proposition over outcomes such as `0:r0=0 /\ 1:r0=0` or `deadlock`.
    /// Default: the first outcome satisfying the test's condition (when none
    /// does, `explain` says so and shows the first outcome).
    #[arg(long, short)]
    pub outcome: Option<String>,

    /// Also write the execution's graph to this file, for Graphviz (`dot -Tsvg`).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,

    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The herd7 X86 litmus file; `-` reads it from standard input.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// The family.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(Family::ALL.map(Family::name))
        .map(|name: String| Family::from_name(&name).expect("invariant: clap checked the name")))]
    pub family: Family,
    /// The family's numbers: N (threads, hops, readers or goroutines), then K
    /// (stores or loads per thread) for writers and writers-read, or P C CAP
    /// (producers, consumers, capacity) for chan-pipeline.
    #[arg(required = true, num_args = 1..=3)]
    pub numbers: Vec<usize>,
}

#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// Stop exploring a test after this many distinct states; its result is then
    /// marked TRUNCATED.
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_STATES as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_states: u64,

    /// Stop exploring a test once its visited states take about this many MiB;
    /// its result is then marked TRUNCATED. Each exploration has its own
    /// limit, and `run` explores up to one file per thread at once.
    #[arg(long, value_name = "MIB", default_value_t = (Limits::DEFAULT_MAX_MEMORY >> 20) as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_memory: u64,

    /// Threads exploring each test (default and most: one per core; more
    /// would only contend). The output is the same for any number.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Which engine explores each test: `graph` builds consistent execution
    /// graphs (sc, tso, pso, and go for programs without data races; no
    /// channels or RWMutexes; loops unrolled),
    /// `states` visits every machine state; `auto` uses the graph engine
    /// where it supports the test and model and expects it to be faster (no
    /// loop, no variable with many reads followed by writes, none that three
    /// threads or more update with read-modify-writes, mutex or wait-group
    /// operations).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,

    /// Iterations of each loop the graph engine unrolls (at most 1000000); an
    /// execution needing more is cut, and the result is marked TRUNCATED.
    #[arg(long, value_name = "N", default_value_t = hbsim::graph::DEFAULT_UNROLL,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(hbsim::graph::MAX_UNROLL)))]
    pub unroll: u32,

    /// Visit every machine state with `--engine states`, instead of one per
    /// class of states that differ only by renaming threads with the same
    /// code and registers. Outcomes, counts, races and witnesses are the
    /// same; only the states and transitions counted differ.
    #[arg(long)]
    pub no_symmetry: bool,

    /// Take every enabled step at each state with `--engine states`, instead
    /// of a persistent set of them (partial-order reduction, for programs
    /// without loops or Go synchronisation on store buffers, with no atomic
    /// access or no variable that can race). Outcomes, races and witnesses are the same;
    /// executions are counted only without the reduction.
    #[arg(long)]
    pub no_partial_order: bool,
}

/// `--engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Auto,
    Graph,
    States,
}

/// How to explore each test: the engine, its bounds, and whether outcomes
/// keep witnesses (only what prints them needs them).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub limits: Limits,
    pub engine: EngineChoice,
    pub unroll: u32,
    pub witnesses: bool,
    pub symmetry: bool,
    pub partial_order: bool,
}

impl LimitArgs {
    /// Sets the number of exploring threads for the whole process, if given.
    pub fn use_jobs(&self) {
        if let Some(jobs) = self.jobs {
            // Thousands of threads took minutes to start and stop on a test of
            // microseconds (found by a review).
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            // Fails only if the pool already exists, which nothing else builds.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(usize::from(jobs).min(cores))
                .build_global();
        }
    }

    pub fn settings(&self) -> Settings {
        let limits =
            Limits::with_max_states(usize::try_from(self.max_states).unwrap_or(usize::MAX))
                .max_memory(
                    usize::try_from(self.max_memory)
                        .ok()
                        .and_then(|mib| mib.checked_mul(1 << 20))
                        .unwrap_or(usize::MAX),
                );
        Settings {
            limits,
            engine: match self.engine {
                EngineArg::Auto => EngineChoice::Auto,
                EngineArg::Graph => EngineChoice::Graph,
                EngineArg::States => EngineChoice::States,
            },
            unroll: self.unroll,
            witnesses: true,
            symmetry: !self.no_symmetry,
            partial_order: !self.no_partial_order,
        }
    }
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// herd7-style text blocks.
    Text,
    /// JSON Lines (docs/json.md).
    Json,
    /// What herd7 prints, per test and model (docs/herd.md).
    Herd,
}

/// Which models each test runs under.
#[derive(Debug)]
pub enum ModelChoice {
    /// These models, for every test.
    Fixed(Vec<Model>),
    /// The models each test's expectations name; all built-ins when it names none.
    FromExpectations,
}

/// Where a command reads a test.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input, given as `-`.
    Stdin,
}

impl Input {
    /// The input a command-line path names: `-` is standard input.
    pub fn from_arg(path: &Path) -> Input {
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(path.to_path_buf())
        }
    }

    /// The name of the input in messages: the path, or `<stdin>`.
    pub fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }

    /// Reads and parses the test, RON or herd7.
    pub fn load(&self) -> Result<LitmusTest, LoadError> {
        match self {
            Input::File(path) => syntax::parse_file(path),
            Input::Stdin => syntax::parse_reader(io::stdin().lock(), &self.name()),
        }
    }

    /// The input's text, unparsed.
    pub fn read(&self) -> io::Result<String> {
        match self {
            Input::File(path) => std::fs::read_to_string(path),
            Input::Stdin => io::read_to_string(io::stdin().lock()),
        }
    }
}

/// A validated `hbsim run` invocation.
#[derive(Debug)]
pub struct RunConfig {
    pub files: Vec<Input>,
    pub models: ModelChoice,
    pub format: Format,
    pub graphs: Option<PathBuf>,
    pub deny_races: bool,
    pub settings: Settings,
}

/// Why the arguments cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("no `.ron` or `.litmus` files under {}", .0.display())]
    EmptyDirectory(PathBuf),
    #[error(
        "unknown model `{name}`: expected {choices} or the path of a model file (there is no file `{name}`)"
    )]
    UnknownModel { name: String, choices: &'static str },
    #[error("`{name}` is a directory: expected {choices} or the path of a model file")]
    ModelIsDirectory { name: String, choices: &'static str },
    #[error(
        "`explain` shows an execution under one model: expected sc, tso, pso, go or the path of a model file, found `{0}`"
    )]
    NotOneModel(String),
    #[error(
        "two different models are named `{0}`: expected each --model to name a model of its own"
    )]
    DuplicateModelName(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    ModelFile(#[from] LoadError),
    #[error("cannot read directory {}: {message}", path.display())]
    Walk { path: PathBuf, message: String },
    #[error("`-` (standard input) is given twice: expected it at most once")]
    StdinTwice,
}

impl RunArgs {
    /// Validates the arguments: expands directories and loads model files.
    pub fn into_config(self) -> Result<RunConfig, ConfigError> {
        let mut files = Vec::new();
        for path in &self.paths {
            if Input::from_arg(path) == Input::Stdin {
                if files.contains(&Input::Stdin) {
                    return Err(ConfigError::StdinTwice);
                }
                files.push(Input::Stdin);
            } else if path.is_dir() {
                let before = files.len();
                // Symbolic links are followed; a link that loops back, or a
                // broken one not named like a litmus file, is passed over, and
                // a file reached twice runs once.
                let walker = walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name();
                let mut seen = std::collections::HashSet::new();
                for entry in walker {
                    let entry = match entry {
                        Ok(entry) => entry,
                        Err(e) if e.loop_ancestor().is_some() => continue,
                        Err(e) if e.depth() > 0 && !e.path().is_some_and(is_litmus_name) => {
                            continue;
                        }
                        Err(e) => {
                            return Err(ConfigError::Walk {
                                path: path.clone(),
                                message: e.to_string(),
                            });
                        }
                    };
                    if entry.file_type().is_file()
                        && is_litmus_name(entry.path())
                        && std::fs::canonicalize(entry.path()).map_or(true, |c| seen.insert(c))
                    {
                        files.push(Input::File(entry.into_path()));
                    }
                }
                if files.len() == before {
                    return Err(ConfigError::EmptyDirectory(path.clone()));
                }
            } else {
                // A missing file is reported when it is loaded, so the others still run.
                files.push(Input::File(path.clone()));
            }
        }
        let models = if self.model.is_empty() {
            ModelChoice::FromExpectations
        } else {
            let mut models: Vec<Model> = Vec::new();
            for name in &self.model {
                let chosen = match name.as_str() {
                    "all" => Model::builtins(),
                    _ => vec![resolve_model(name, "sc, tso, pso, go, all,")?],
                };
                for m in chosen {
                    match models.iter().find(|have| have.name == m.name) {
                        None => models.push(m),
                        Some(have) if *have == m => {}
                        Some(_) => return Err(ConfigError::DuplicateModelName(m.name)),
                    }
                }
            }
            ModelChoice::Fixed(models)
        };
        // Text and herd7 output print no witness; JSON and `--graphs` do.
        let witnesses = self.format == Format::Json || self.graphs.is_some();
        Ok(RunConfig {
            files,
            models,
            format: self.format,
            graphs: self.graphs,
            deny_races: self.deny_races,
            settings: {
                self.limits.use_jobs();
                Settings {
                    witnesses,
                    ..self.limits.settings()
                }
            },
        })
    }
}

/// Whether a file name says it holds a litmus test (`*.ron`, `*.litmus`).
fn is_litmus_name(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "ron" || e == "litmus")
}

/// A built-in model by name, or the model file at that path (not `all`,
/// which only `run` takes).
pub fn resolve_model(name: &str, choices: &'static str) -> Result<Model, ConfigError> {
    if name == "all" {
        return Err(ConfigError::NotOneModel(name.to_string()));
    }
    match Model::builtin(name) {
        Some(m) => Ok(m),
        None if PathBuf::from(name).is_file() => Ok(model::load_model_file(name.as_ref())?),
        None if PathBuf::from(name).is_dir() => Err(ConfigError::ModelIsDirectory {
            name: name.to_string(),
            choices,
        }),
        None => Err(ConfigError::UnknownModel {
            name: name.to_string(),
            choices,
        }),
    }
}
