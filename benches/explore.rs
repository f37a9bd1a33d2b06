//! Exploration speed: the bundled corpus under each model, and the SB scaling
//! family (thread i stores x_i, then loads x_(i+1 mod n)) for n = 2..6 under tso
//! and pso. Throughput is in distinct states explored.
//!
//! Run with `cargo bench --bench explore`; numbers are in the README.

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

criterion_group!(benches, bench_corpus, bench_sb_scaling);
criterion_main!(benches);
