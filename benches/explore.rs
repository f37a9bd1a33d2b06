//! Exploration speed: the bundled corpus under each model, the SB scaling
//! family (thread i stores x_i, then loads x_(i+1 mod n)) for n = 2..6 under tso
//! and pso, and the test families of issue 7's targets (`hbsim gen`) with
//! the Go ones. Throughput is in distinct states explored, so criterion's
//! elements per second is states per second.
//!
//! Run with `cargo bench --bench explore`; numbers are in the README and
//! docs/performance.md.

#[path = "../tests/common/corpus.rs"]
mod corpus;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hbsim::explore::explore;
use hbsim::families::{Family, generate};
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::syntax::parse_file;

/// SB with `n` threads (`hbsim gen sb n`).
fn sb(n: usize) -> Program {
    generate(Family::Sb, &[n])
        .expect("sb n is a family member")
        .build()
        .expect("generated SB builds")
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
            let states = explore(&program, &model).stats.states;
            group.throughput(Throughput::Elements(states as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &program, |b, p| {
                b.iter(|| black_box(explore(black_box(p), &model)))
            });
        }
        group.finish();
    }
}

/// The targets of issue 7 (`sb 8` aside: seconds per run), and the Go
/// families, each under the model its target names.
const FAMILIES: &[(Family, &[usize], &str)] = &[
    (Family::Writers, &[6, 2], "tso"),
    (Family::Iriw, &[5], "tso"),
    (Family::MpChain, &[6], "pso"),
    (Family::Ainc, &[8], "sc"),
    (Family::MutexCounter, &[6], "go"),
    (Family::WaitGroup, &[5], "go"),
    (Family::ChanPipeline, &[4, 2, 1], "go"),
];

fn bench_families(c: &mut Criterion) {
    let mut group = c.benchmark_group("families");
    group.sample_size(10);
    for &(family, numbers, model) in FAMILIES {
        let program = generate(family, numbers)
            .expect("a family member")
            .build()
            .expect("a generated test builds")
            .program;
        let model = Model::builtin(model).expect("a built-in model");
        let states = explore(&program, &model).stats.states;
        group.throughput(Throughput::Elements(states as u64));
        let name = format!("{family} {numbers:?} {}", model.name);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(explore(black_box(&program), &model)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_corpus, bench_sb_scaling, bench_families);
criterion_main!(benches);
