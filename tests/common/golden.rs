//! Golden files for user-facing text (`#[path]`-included by the CLI tests).

use std::path::Path;

/// Compares `actual` with the golden file, or rewrites it under `BLESS=1`.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(path, actual).expect("golden file is writable");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("missing golden file {}; run with BLESS=1", path.display()));
    assert_eq!(
        actual,
        expected,
        "output differs from {} (BLESS=1 rewrites it)",
        path.display()
    );
}
