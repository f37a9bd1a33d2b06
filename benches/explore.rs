//! Exploration speed: the bundled corpus under each model (with the default
//! engine choice), and on the state-space engine the SB scaling family (thread
//! i stores x_i, then loads x_(i+1 mod n)) for n = 2..6 under tso and pso
//! taking every enabled step, and the test families of issue 7's targets
//! (`hbsim gen`) with the Go ones, with partial-order reduction (group
//! `families`, the default) and taking every step (group
//! `families-every-step`); throughput there is in distinct states, so
//! criterion's elements per second is states per second. Group `graph`: the execution-graph engine on
//! the families of issue 8's targets, throughput in consistent executions.
//!
//! Run with `cargo bench --bench explore`; numbers are in the README and
//! docs/performance.md.

#[path = "../tests/common/corpus.rs"]
mod corpus;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hbsim::explore::{EngineChoice, Exploration, Explorer, explore};
use hbsim::families::{Family, generate};
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::syntax::parse_file;

/// SB with `n` threads (`hbsim gen sb n`).
fn sb(n: usize) -> Program {
    family(Family::Sb, &[n])
}

/// An exploration on the state-space engine, with partial-order reduction
/// or taking every enabled step.
fn states(program: &Program, model: &Model, partial_order: bool) -> Exploration {
    Explorer::new(program, model)
        .engine(EngineChoice::States)
        .partial_order(partial_order)
        .run()
}

/// An exploration on the execution-graph engine.
fn graph(program: &Program, model: &Model) -> Exploration {
    Explorer::new(program, model)
        .engine(EngineChoice::Graph)
        .run()
}

fn family(family: Family, numbers: &[usize]) -> Program {
    generate(family, numbers)
        .expect("a family member")
        .build()
        .expect("a generated test builds")
        .program
}

fn corpus() -> Vec<Program> {
    corpus::litmus_files()
        .iter()
        .map(|p| parse_file(p).expect("corpus file loads").program)
        .collect()
}

fn bench_corpus(c: &mut Criterion) {
    let programs = corpus();
    let mut group = c.benchmark_group("corpus");
    for model in Model::builtins() {
        let states: usize = programs
            .iter()
            .map(|p| explore(p, &model).stats.states)
            .sum();
        group.throughput(Throughput::Elements(states as u64));
        group.bench_function(BenchmarkId::from_parameter(&model.name), |b| {
            b.iter(|| {
                for program in &programs {
                    black_box(explore(black_box(program), &model));
                }
            })
        });
    }
    group.finish();
}

fn bench_sb_scaling(c: &mut Criterion) {
    for model in [Model::tso(), Model::pso()] {
        let mut group = c.benchmark_group(format!("sb-scaling/{}", model.name));
        group.sample_size(10);
        for n in 2..=6 {
            let program = sb(n);
            let count = states(&program, &model, false).stats.states;
            group.throughput(Throughput::Elements(count as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &program, |b, p| {
                b.iter(|| black_box(states(black_box(p), &model, false)))
            });
        }
        group.finish();
    }
}

/// The targets of issue 7, and the Go families, each under the model its
/// target names (`sb 8` only with the reduction: without, seconds per run).
const FAMILIES: &[(Family, &[usize], &str)] = &[
    (Family::Sb, &[8], "tso"),
    (Family::Writers, &[6, 2], "tso"),
    (Family::Iriw, &[5], "tso"),
    (Family::MpChain, &[6], "pso"),
    (Family::Ainc, &[8], "sc"),
    (Family::MutexCounter, &[6], "go"),
    (Family::WaitGroup, &[5], "go"),
    (Family::ChanPipeline, &[4, 2, 1], "go"),
];

fn bench_families(c: &mut Criterion) {
    for (group, partial_order) in [("families", true), ("families-every-step", false)] {
        let mut group = c.benchmark_group(group);
        group.sample_size(10);
        for &(which, numbers, model) in FAMILIES {
            if which == Family::Sb && !partial_order {
                continue;
            }
            let program = family(which, numbers);
            let model = Model::builtin(model).expect("a built-in model");
            let count = states(&program, &model, partial_order).stats.states;
            group.throughput(Throughput::Elements(count as u64));
            let name = format!("{which} {numbers:?} {}", model.name);
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| black_box(states(black_box(&program), &model, partial_order)))
            });
        }
        group.finish();
    }
}

/// The targets of issue 8 (`ainc 9` aside: seconds per run; `ainc 7`
/// instead), each under the model its target names; and a race-free Go
/// family under `go`, which the graph engine explores as `sc` and replays
/// on the go machine.
const GRAPH_FAMILIES: &[(Family, &[usize], &str)] = &[
    (Family::Writers, &[7, 2], "tso"),
    (Family::Sb, &[12], "tso"),
    (Family::MpChain, &[10], "tso"),
    (Family::Iriw, &[7], "sc"),
    (Family::Ainc, &[7], "sc"),
    (Family::MutexCounter, &[4], "go"),
];

fn bench_graph(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph");
    group.sample_size(10);
    for &(which, numbers, model) in GRAPH_FAMILIES {
        let program = family(which, numbers);
        let model = Model::builtin(model).expect("a built-in model");
        let executions = graph(&program, &model)
            .stats
            .graph
            .expect("the graph engine ran")
            .explored;
        group.throughput(Throughput::Elements(executions as u64));
        let name = format!("{which} {numbers:?} {}", model.name);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(graph(black_box(&program), &model)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_corpus,
    bench_sb_scaling,
    bench_families,
    bench_graph
);
criterion_main!(benches);
