//! The stable fallback fuzz runner. For every target in `fuzz_targets`: replays each input kept
//! in `fuzz/corpus/<target>/` (the regression set: interesting inputs found so far), then feeds
//! random mutations of them for a bounded time (`FUZZ_SECONDS` per target, 1 by default;
//! `FUZZ_SEED` replays a run). A panic fails the test, names the target and the seed, and
//! writes the input to `target/fuzz-failures/` so it can be added to the corpus.
//!
//! Coverage-guided runs are by hand with libFuzzer: see `rust/fuzz/README.md`.

mod fuzz_targets;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is missing: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    entries
        .iter()
        .map(|path| std::fs::read(path).expect("read a corpus file"))
        .collect()
}

/// Bytes fuzzers find interesting: boundaries of numbers, framing and escapes.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\0",
    b"%",
    b"%2F",
    b"%00",
    b"%FF",
    b"..",
    b"/",
    b"=",
    b"&",
    b";",
    b":",
    b"-",
    b",",
    b"<",
    b">",
    b"</",
    b"&amp;",
    b"<!DOCTYPE",
    b"<!ENTITY",
    b"\xff\xfe",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-1",
    b"0",
    b"ffffffffffffffff",
    b"chunk-signature=",
    b"AWS4-HMAC-SHA256",
    b"._S3_",
    b"--",
    b"bytes=",
    b"\xc0\xae",
];

fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.gen_range(0..seeds.len())].clone();
    for _ in 0..rng.gen_range(1..=8) {
        let at = rng.gen_range(0..=data.len());
        match rng.gen_range(0..6) {
            0 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !data.is_empty() => {
                let end = rng.gen_range(at.min(data.len() - 1)..data.len());
                data.drain(at.min(end)..=end);
            }
            2 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            3 => {
                let other = &seeds[rng.gen_range(0..seeds.len())];
                let from = rng.gen_range(0..=other.len());
                let to = rng.gen_range(from..=other.len());
                data.splice(at..at, other[from..to].iter().copied());
            }
            4 if !data.is_empty() => {
                // Repeat a slice: long lines, deep nesting, many fields.
                let from = rng.gen_range(0..data.len());
                let to = rng.gen_range(from..data.len().min(from + 32)) + 1;
                let piece = data[from..to].to_vec();
                for _ in 0..rng.gen_range(1..200) {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            _ => data.insert(at, rng.gen()),
        }
    }
    data.truncate(64 * 1024);
    data
}

fn run_one(target: &str, body: fuzz_targets::Target, input: &[u8], seed: u64) {
    if std::panic::catch_unwind(|| body(input)).is_err() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{target}-{seed}"));
        let _ = std::fs::write(&file, input);
        panic!(
            "fuzz target {target} panicked (FUZZ_SEED={seed}); the input is in {}",
            file.display()
        );
    }
}

#[test]
fn every_fuzz_target_survives_its_corpus_and_mutations_of_it() {
    let seconds: f64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("fuzz: FUZZ_SEED={seed}, {seconds} s per target");
    for &(target, body) in fuzz_targets::TARGETS {
        let seeds = corpus(target);
        assert!(!seeds.is_empty(), "the corpus of {target} is empty");
        for input in &seeds {
            run_one(target, body, input, seed);
        }
        let mut rng = StdRng::seed_from_u64(seed ^ target.len() as u64);
        let until = Instant::now() + Duration::from_secs_f64(seconds);
        let mut runs = 0u64;
        while Instant::now() < until && runs < 1_000_000 {
            let input = mutate(&mut rng, &seeds);
            run_one(target, body, &input, seed);
            runs += 1;
        }
        eprintln!(
            "fuzz: {target}: {} corpus inputs, {runs} mutations",
            seeds.len()
        );
    }
}
