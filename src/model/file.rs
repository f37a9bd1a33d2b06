//! Model files: a store-buffer machine described in RON (docs/models.md).
//!
//! ```text
//! Model(
//!     name: "tso-1",
//!     description: "x86-TSO with at most one pending store per thread",
//!     buffer: PerThread,          // None | PerThread | PerThreadPerLocation
//!     bound: 1,                   // optional: entries per buffer
//!     forwarding: true,           // optional, default true
//! )
//! ```

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::{BufferShape, Forwarding, Model, ModelKind, StoreBufferConfig};
use crate::syntax::{LoadError, SourceError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Model")]
struct ModelFile {
    name: String,
    #[serde(default)]
    description: String,
    buffer: BufferShape,
    #[serde(default)]
    bound: Option<u32>,
    #[serde(default = "default_forwarding")]
    forwarding: bool,
}

fn default_forwarding() -> bool {
    true
}

/// Parses a model description. `file_name` is used in error messages.
///
/// # Errors
/// A [`LoadError::Source`] for malformed RON, a bad name, or `bound: 0`.
///
/// # Example
/// ```
/// let model = hbsim::model::parse_model_str(
///     r#"Model(name: "tso-1", buffer: PerThread, bound: 1)"#, "tso-1.ron").unwrap();
/// assert_eq!(model.store_buffers_config().unwrap().bound, Some(1));
/// ```
pub fn parse_model_str(source: &str, file_name: &str) -> Result<Model, LoadError> {
    let source: Arc<str> = Arc::from(source.strip_prefix('\u{feff}').unwrap_or(source));
    let file: ModelFile = crate::syntax::parse_ron(&source, file_name)?;
    let locate = |needle: &str| {
        source
            .find(needle)
            .map_or(0..0, |start| start..start + needle.len())
    };
    let valid_name = !file.name.is_empty()
        && file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid_name {
        let span = locate(&format!("\"{}\"", file.name));
        return Err(SourceError::new(
            file_name,
            &source,
            span,
            format!(
                "expected a model name of letters, digits, `-`, `_` or `.`, found `{}`",
                file.name
            ),
            "this name",
        )
        .into());
    }
    if Model::builtin(&file.name).is_some() || file.name == "all" {
        let span = locate(&format!("\"{}\"", file.name));
        return Err(SourceError::new(
            file_name,
            &source,
            span,
            format!(
                "expected a name of a new model, found `{}`, which is reserved",
                file.name
            ),
            "this name",
        )
        .with_help("sc, tso, pso, go and all name the built-in models; choose another name")
        .into());
    }
    if file.bound == Some(0) {
        let span = locate("bound");
        return Err(SourceError::new(
            file_name,
            &source,
            span,
            "expected a bound of at least 1, found 0",
            "here",
        )
        .with_help(if file.buffer == BufferShape::None {
            "`buffer: None` has no buffers to bound; leave `bound` out"
        } else {
            "a machine without buffers is `buffer: None`"
        })
        .into());
    }
    Ok(Model {
        name: file.name,
        description: file.description,
        kind: ModelKind::StoreBuffers(StoreBufferConfig {
            buffer: file.buffer,
            bound: if file.buffer == BufferShape::None {
                None
            } else {
                file.bound
            },
            forwarding: if file.forwarding {
                Forwarding::Enabled
            } else {
                Forwarding::Disabled
            },
        }),
    })
}

/// Reads and parses a model file.
///
/// # Errors
/// [`LoadError::Io`] if unreadable, otherwise as [`parse_model_str`].
pub fn load_model_file(path: &Path) -> Result<Model, LoadError> {
    let source = crate::syntax::read_file(path)?;
    parse_model_str(&source, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_presets_of_the_same_file_format() {
        let tso = parse_model_str(
            r#"Model(name: "my-tso", description: "x86-TSO: a FIFO store buffer per thread; loads may overtake earlier stores", buffer: PerThread)"#,
            "m.ron",
        )
        .unwrap();
        assert_eq!(
            tso,
            Model {
                name: "my-tso".to_string(),
                ..Model::tso()
            }
        );
    }

    #[test]
    fn builtin_names_are_reserved() {
        for name in ["sc", "tso", "pso", "go", "all"] {
            let src = format!("Model(name: \"{name}\", buffer: None)");
            let err = parse_model_str(&src, "m.ron").unwrap_err();
            assert!(err.to_string().contains("reserved"), "{err}");
        }
    }

    #[test]
    fn rejects_zero_bound_and_bad_names_with_positions() {
        let err = parse_model_str(r#"Model(name: "x", buffer: PerThread, bound: 0)"#, "m.ron")
            .unwrap_err();
        assert!(err.to_string().starts_with("m.ron:1:37:"), "{err}");
        let err = parse_model_str(r#"Model(name: "a b", buffer: None)"#, "m.ron").unwrap_err();
        assert!(err.to_string().contains("found `a b`"), "{err}");
        let err = parse_model_str(r#"Model(name: "a", buffer: Sometimes)"#, "m.ron").unwrap_err();
        assert!(err.to_string().contains("Sometimes"), "{err}");
    }
}
