//! Generated test families, for tests and benches (`#[path]`-included).

/// SB with `n` threads as a litmus file: thread i stores 1 to `x_i`, then loads
/// `x_(i+1 mod n)`; the condition asks whether every load reads 0.
pub fn sb_source(n: usize) -> String {
    let threads: Vec<String> = (0..n)
        .map(|i| format!("[Store(\"x{i}\", 1), Load(\"r0\", \"x{}\")]", (i + 1) % n))
        .collect();
    let all_zero: Vec<String> = (0..n).map(|i| format!("{i}:r0=0")).collect();
    format!(
        "Litmus(name: \"SB{n}\", threads: [{}], condition: \"exists ({})\", expect: {{ \"tso\": Sometimes }})",
        threads.join(", "),
        all_zero.join(" /\\\\ ")
    )
}
