//! The bundled litmus corpus and the shared herd7 corpus, for tests and
//! benches (`#[path]`-included where the rest of `common` is not needed).

#![allow(dead_code)] // each test crate uses part of it

use std::io::Write;
use std::path::{Path, PathBuf};

/// Every `.ron` file under the crate's `litmus/` directory, recursively, sorted.
pub fn litmus_files() -> Vec<PathBuf> {
    files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("litmus"), "ron")
}

/// `../shared/litmus-x86` (237 herd7 and Dat3M x86 tests), or `None`, after
/// saying so on the real stderr, when it is absent: it is not part of this
/// repository.
pub fn shared_x86_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/litmus-x86");
    if dir.is_dir() {
        Some(dir)
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {} not found; the herd7 corpus tests need ../shared/litmus-x86",
            dir.display()
        );
        None
    }
}

/// Every file with extension `ext` under `dir`, recursively, sorted.
pub fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read directory {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot read an entry of {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
