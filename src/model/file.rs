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

use std::ops::Range;
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
    let locate = |key: &str| field_value(&source, key).unwrap_or(0..0);
    let valid_name = !file.name.is_empty()
        && file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid_name {
        let span = locate("name");
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
        let span = locate("name");
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

/// Where the value of field `key` of the model is in `source`, RON text
/// that parsed: the first `key:` outside strings and comments, then its value
/// (a string literal, or a run of letters, digits, `_`, `-` and `+`).
fn field_value(source: &str, key: &str) -> Option<Range<usize>> {
    let bytes = source.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = source[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b if word(b) => {
                let start = i;
                while i < bytes.len() && word(bytes[i]) {
                    i += 1;
                }
                let rest = source[i..].trim_start();
                if &source[start..i] == key && rest.starts_with(':') {
                    let value = source.len() - rest[1..].trim_start().len();
                    let end = if bytes.get(value) == Some(&b'"') {
                        source[value + 1..]
                            .find('"')
                            .map_or(source.len(), |n| value + n + 2)
                    } else {
                        value
                            + source[value..]
                                .find(|c: char| !(c.is_ascii_alphanumeric() || "_-+".contains(c)))
                                .unwrap_or(source.len() - value)
                    };
                    return Some(value..end);
                }
            }
            _ => i += 1,
        }
    }
    None
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

    /// Errors point at the field's value, not at the first occurrence of its
    /// text (found by fuzzing: a reserved name was underlined in a comment,
    /// `bound: 0` in the description).
    #[test]
    fn errors_point_at_the_fields_value_past_comments_and_strings() {
        let source = "// the \"sc\" model, bounded\nModel(\n    description: \"bound: 7\",\n    name: \"sc\",\n    buffer: PerThread,\n    bound: 0,\n)\n";
        assert_eq!(&source[field_value(source, "name").unwrap()], "\"sc\"");
        assert_eq!(&source[field_value(source, "bound").unwrap()], "0");
        assert_eq!(field_value(source, "forwarding"), None);
        let Err(LoadError::Source(e)) = parse_model_str(source, "m.ron") else {
            panic!("a reserved name is an error");
        };
        assert_eq!((e.line, e.column), (4, 11));
        let renamed = source.replace("name: \"sc\"", "name: \"mine\"");
        let Err(LoadError::Source(e)) = parse_model_str(&renamed, "m.ron") else {
            panic!("a bound of 0 is an error");
        };
        assert_eq!((e.line, e.column), (6, 12));
    }

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
        // At the value 0.
        assert!(err.to_string().starts_with("m.ron:1:44:"), "{err}");
        let err = parse_model_str(r#"Model(name: "a b", buffer: None)"#, "m.ron").unwrap_err();
        assert!(err.to_string().contains("found `a b`"), "{err}");
        let err = parse_model_str(r#"Model(name: "a", buffer: Sometimes)"#, "m.ron").unwrap_err();
        assert!(err.to_string().contains("Sometimes"), "{err}");
    }
}
