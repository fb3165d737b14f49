//! Criterion benchmarks of prolo's hot functions (issue 6).
//!
//! - `read/100k_courses`: the CSV read alone (`Dataset::for_each_record` into a
//!   sink that only counts): lines cut at their separators, fields trimmed, in two
//!   parts at once as a large file is read (`settings.parts = 2`), and the file's
//!   SHA-256, started by the first part to finish and awaited (`settle`).
//!   The synthetic data set is 100,000 courses (`synth::write_csv`, seed 1, about
//!   450,000 rows).
//! - `validate/100k_courses`: the same read with every record checked and the
//!   courses put in order (`validate::validate`; the SHA-256 is computed while the
//!   second part is read and the courses are put in order, so the difference from
//!   `read` is not the cost of the checks alone). Both include freeing what they
//!   made.
//! - `read_parquet/text_100k` and `read_parquet/typed_100k`: the same records read
//!   from Parquet into the same counting sink, two parts at once: every column as
//!   text (as `prolo synth` writes Parquet), and with the types polars infers from
//!   the whole CSV (numbers as numbers, as users' files hold them), each in polars'
//!   default row groups; row groups decoded in slices, values written as text.
//! - `derive/100k_courses`: per-course derivation (`courses::derive`) of the same
//!   data set, read and validated once; each iteration gets a freshly validated
//!   copy, made outside the timed part, because `derive` records exclusions in it.
//! - `change/100k_courses`: change by condition and injections received
//!   (`analysis::change::analyse`: means, SDs, t intervals, medians, quartiles,
//!   Wilcoxon signed-rank tests) on the derived courses of the same data set, in
//!   the condition-major order `analysis::run` gives them.
//! - `kaplan_meier/100k`: `KaplanMeier::fit` on 100,000 integer times
//!   (injections to response, 1–8, about 60% events).
//! - `wilcoxon/100k_ties`: `wilcoxon::signed_rank` on 100,000 changes in
//!   half-point steps from −8 to +3 (many ties and some zeros, as pain changes
//!   are), which takes the normal approximation with tie correction.
//!
//! Memory is managed as in the `prolo` binary: the same global allocator (huge
//! pages for large blocks) and glibc thresholds (`prolo::memory::configure`).
//!
//! Run: `cargo bench --bench hot` (add `-- derive` to run one group).

use std::hint::black_box;
use std::io::BufWriter;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};

use prolo::analysis::{self, change};
use prolo::config::Settings;
use prolo::courses;
use prolo::ingest::{self, Record, Sink};
use prolo::stats::kaplan_meier::KaplanMeier;
use prolo::stats::wilcoxon;
use prolo::synth::{self, SynthOptions};
use prolo::validate;

const N: usize = 100_000;

#[global_allocator]
static ALLOCATOR: prolo::memory::Allocator = prolo::memory::Allocator;

/// A small deterministic generator (SplitMix64), so the inputs never change.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The synthetic data set of `N` courses (seed 1), written to a CSV file in `dir`.
fn synthetic_csv(dir: &tempfile::TempDir) -> Vec<String> {
    let path = dir.path().join("courses_100000.csv");
    let file = std::fs::File::create(&path).expect("create the synthetic CSV");
    let opts = SynthOptions {
        courses: N as u64,
        seed: 1,
        defects: false,
    };
    synth::write_csv(&opts, BufWriter::new(file)).expect("write the synthetic CSV");
    vec![path.to_string_lossy().into_owned()]
}

/// A sink that counts the records and the bytes of their fields (so that nothing read
/// goes unused).
#[derive(Default)]
struct Count(u64, u64);

impl Sink for Count {
    fn record(&mut self, r: &Record) -> prolo::error::Result<()> {
        self.0 += 1;
        self.1 += r.fields.iter().map(|f| f.len() as u64).sum::<u64>();
        Ok(())
    }
    fn fork(&self, _: usize) -> Self {
        Count::default()
    }
    fn join(&mut self, part: Self, _: u64) {
        self.0 += part.0;
        self.1 += part.1;
    }
}

/// Reads every record of `paths` into a [`Count`] and awaits the files' SHA-256.
fn read_all(paths: &[String], settings: &Settings) -> (u64, u64) {
    let mut data = ingest::read(paths, settings).expect("read the synthetic data");
    let mut count = Count::default();
    data.for_each_record(settings, &mut count).expect("records");
    data.settle().expect("hash");
    (count.0, count.1)
}

fn bench_read_validate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let paths = synthetic_csv(&dir);
    // Two parts at once, as a file of 64 MiB or more is read on two cores.
    let settings = Settings {
        parts: Some(2),
        ..Settings::default()
    };
    let mut group = c.benchmark_group("read");
    group.sample_size(20);
    group.bench_function("100k_courses", |b| {
        b.iter(|| black_box(read_all(&paths, &settings)))
    });
    group.finish();
    let mut group = c.benchmark_group("validate");
    group.sample_size(20);
    group.bench_function("100k_courses", |b| {
        b.iter(|| {
            let mut data = ingest::read(&paths, &settings).expect("read the synthetic CSV");
            validate::validate(&mut data, &settings).expect("validate")
        })
    });
    group.finish();
}

/// The CSV file at `csv` written as Parquet at `out`: every column as text (`typed` false,
/// as `prolo synth` writes it) or with the types polars infers from the whole file.
fn parquet_copy(csv: &str, out: &std::path::Path, typed: bool) -> Vec<String> {
    use polars::prelude::*;
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(if typed { None } else { Some(0) })
        .try_into_reader_with_file_path(Some(csv.into()))
        .and_then(|r| r.finish())
        .expect("read the synthetic CSV");
    let file = std::fs::File::create(out).expect("create the Parquet copy");
    ParquetWriter::new(file)
        .finish(&mut frame)
        .expect("write the Parquet copy");
    vec![out.to_string_lossy().into_owned()]
}

fn bench_read_parquet(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let csv = synthetic_csv(&dir);
    let settings = Settings {
        parts: Some(2),
        ..Settings::default()
    };
    let mut group = c.benchmark_group("read_parquet");
    group.sample_size(20);
    for (name, typed) in [("text_100k", false), ("typed_100k", true)] {
        let paths = parquet_copy(&csv[0], &dir.path().join(format!("{name}.parquet")), typed);
        group.bench_function(name, |b| b.iter(|| black_box(read_all(&paths, &settings))));
    }
    group.finish();
}

fn bench_derive(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let paths = synthetic_csv(&dir);
    let settings = Settings::default();

    // The untimed setup (validation) costs more than derive itself: keep the count of
    // iterations, and so the run time, small.
    let mut group = c.benchmark_group("derive");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("100k_courses", |b| {
        b.iter_batched_ref(
            || {
                let mut data = ingest::read(&paths, &settings).expect("read the synthetic CSV");
                validate::validate(&mut data, &settings).expect("validate")
            },
            |v| courses::derive(black_box(v), &settings),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn bench_change(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let paths = synthetic_csv(&dir);
    let settings = Settings::default();
    let mut data = ingest::read(&paths, &settings).expect("read the synthetic CSV");
    let mut v = validate::validate(&mut data, &settings).expect("validate");
    let (mut outcomes, _, _) = courses::derive(&mut v, &settings);
    for o in &mut outcomes {
        analysis::condition_major(&mut o.courses, v.conditions.len());
    }
    let groups = analysis::group(&outcomes, &v.conditions, &settings);
    c.bench_function("change/100k_courses", |b| {
        b.iter(|| change::analyse(black_box(&groups), &settings))
    });
}

fn bench_kaplan_meier(c: &mut Criterion) {
    let mut rng = SplitMix(1);
    let mut times = Vec::with_capacity(N);
    let mut events = Vec::with_capacity(N);
    for _ in 0..N {
        times.push((1 + rng.next() % 8) as f64);
        events.push(rng.unit() < 0.6);
    }
    c.bench_function("kaplan_meier/100k", |b| {
        b.iter(|| KaplanMeier::fit(black_box(&times), black_box(&events)))
    });
}

fn bench_wilcoxon(c: &mut Criterion) {
    let mut rng = SplitMix(2);
    // Half-point steps from -8 to +3, centred near -2: ties everywhere, some zeros.
    let changes: Vec<f64> = (0..N)
        .map(|_| {
            let steps = (rng.unit() * 12.0 + rng.unit() * 12.0).floor() - 16.0;
            (steps * 0.5).clamp(-8.0, 3.0)
        })
        .collect();
    c.bench_function("wilcoxon/100k_ties", |b| {
        b.iter(|| wilcoxon::signed_rank(black_box(&changes)))
    });
}

/// glibc's thresholds as the binary sets them, before criterion starts any thread.
fn configure_memory(_: &mut Criterion) {
    prolo::memory::configure();
}

criterion_group!(
    benches,
    configure_memory,
    bench_read_validate,
    bench_read_parquet,
    bench_derive,
    bench_change,
    bench_kaplan_meier,
    bench_wilcoxon
);
criterion_main!(benches);
