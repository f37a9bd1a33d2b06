//! Reports compared across runs: explorations on a chosen number of
//! threads, rendered as JSON without the fields that measure time.

use hbsim::explore::Exploration;
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::report::RunReport;

/// Runs `explore` on a rayon pool of `threads` threads (what `-j` sets).
pub fn on_threads<T: Send>(threads: usize, explore: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(explore)
}

/// The JSON report of `exploration`, with its timings blanked.
pub fn untimed_json(
    program: &Program,
    model: &Model,
    exploration: Exploration,
) -> serde_json::Value {
    let run = RunReport::new(program, "test.ron", model, exploration);
    let mut out = Vec::new();
    hbsim::report::json::render_run(&run, &mut out).expect("writing to memory");
    let mut json: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    json["stats"]["elapsed_ms"] = serde_json::Value::Null;
    json["stats"]["ns_per_state"] = serde_json::Value::Null;
    // The graph engine's peak memory counts the graphs on the workers'
    // stacks, which depend on their timing (docs/json.md).
    if !json["stats"]["graph"].is_null() {
        json["stats"]["memory_bytes"] = serde_json::Value::Null;
    }
    json
}
