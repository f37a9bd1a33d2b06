//! Command-line arguments, and their validation into a [`RunConfig`].

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use hbsim::explore::Limits;
use hbsim::model::{self, Model};
use hbsim::syntax::LoadError;

/// hbsim: every outcome a litmus test can reach under SC, x86-TSO, PSO and
/// configurable store-buffer models, with a verdict for every expectation.
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
    /// List the built-in models.
    Models,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Litmus files, or directories searched recursively for `*.ron`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Models to explore: `sc`, `tso`, `pso`, `all`, or a model file (repeat the
    /// flag or separate with commas). Default: the models each file's
    /// expectations name, else all built-in models.
    #[arg(long, short, value_delimiter = ',')]
    pub model: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Stop exploring a test after this many distinct states; its result is then
    /// marked TRUNCATED.
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_STATES as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_states: u64,

    /// Stop exploring a test once its visited states take about this many MiB;
    /// its result is then marked TRUNCATED.
    #[arg(long, value_name = "MIB", default_value_t = (Limits::DEFAULT_MAX_MEMORY >> 20) as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_memory: u64,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// herd7-style text blocks.
    Text,
    /// JSON Lines (docs/json.md).
    Json,
}

/// Which models each test runs under.
#[derive(Debug)]
pub enum ModelChoice {
    /// These models, for every test.
    Fixed(Vec<Model>),
    /// The models each test's expectations name; all built-ins when it names none.
    FromExpectations,
}

/// A validated `hbsim run` invocation.
#[derive(Debug)]
pub struct RunConfig {
    pub files: Vec<PathBuf>,
    pub models: ModelChoice,
    pub format: Format,
    pub limits: Limits,
}

/// Why the arguments cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("no `.ron` files under {}", .0.display())]
    EmptyDirectory(PathBuf),
    #[error(
        "unknown model `{0}`: expected sc, tso, pso, all, or the path of a model file (there is no file `{0}`)"
    )]
    UnknownModel(String),
    #[error("`{0}` is a directory: expected sc, tso, pso, all, or the path of a model file")]
    ModelIsDirectory(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    ModelFile(#[from] LoadError),
    #[error("cannot read directory {}: {message}", path.display())]
    Walk { path: PathBuf, message: String },
}

impl RunArgs {
    /// Validates the arguments: expands directories and loads model files.
    pub fn into_config(self) -> Result<RunConfig, ConfigError> {
        let mut files = Vec::new();
        for path in &self.paths {
            if path.is_dir() {
                let before = files.len();
                let walker = walkdir::WalkDir::new(path).sort_by_file_name();
                for entry in walker {
                    let entry = entry.map_err(|e| ConfigError::Walk {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                    let is_ron = entry.path().extension().is_some_and(|e| e == "ron");
                    if entry.file_type().is_file() && is_ron {
                        files.push(entry.into_path());
                    }
                }
                if files.len() == before {
                    return Err(ConfigError::EmptyDirectory(path.clone()));
                }
            } else {
                // A missing file is reported when it is loaded, so the others still run.
                files.push(path.clone());
            }
        }
        let models = if self.model.is_empty() {
            ModelChoice::FromExpectations
        } else {
            let mut models: Vec<Model> = Vec::new();
            for name in &self.model {
                let chosen = match name.as_str() {
                    "all" => Model::builtins(),
                    _ => match Model::builtin(name) {
                        Some(m) => vec![m],
                        None if PathBuf::from(name).is_file() => {
                            vec![model::load_model_file(name.as_ref())?]
                        }
                        None if PathBuf::from(name).is_dir() => {
                            return Err(ConfigError::ModelIsDirectory(name.clone()));
                        }
                        None => return Err(ConfigError::UnknownModel(name.clone())),
                    },
                };
                for m in chosen {
                    if !models.iter().any(|have| have.name == m.name) {
                        models.push(m);
                    }
                }
            }
            ModelChoice::Fixed(models)
        };
        Ok(RunConfig {
            files,
            models,
            format: self.format,
            limits: Limits::with_max_states(usize::try_from(self.max_states).unwrap_or(usize::MAX))
                .max_memory(
                    usize::try_from(self.max_memory)
                        .ok()
                        .and_then(|mib| mib.checked_mul(1 << 20))
                        .unwrap_or(usize::MAX),
                ),
        })
    }
}
