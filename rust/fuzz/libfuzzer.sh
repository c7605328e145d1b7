#!/bin/sh
# Coverage-guided fuzzing with libFuzzer on the stable toolchain:
#   rust/fuzz/libfuzzer.sh <target> [seconds]      (targets: router auth aws_chunked xml keypath form range)
# The sanitizer-coverage flags go in RUSTFLAGS; naming the host --target keeps them off build
# scripts (without it libc's build script fails). It starts from corpus/<target> and what
# earlier runs found (target/corpus-<target>, outside the repository, kept between runs).
set -eu
cd "$(dirname "$0")"
name=${1:?usage: libfuzzer.sh <target> [seconds]}
seconds=${2:-60}
triple=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --target "$triple" --bin "$name"
binary="target/$triple/release/$name"
mkdir -p "target/corpus-$name" "target/artifacts-$name"
"$binary" "target/corpus-$name" "corpus/$name" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -artifact_prefix="target/artifacts-$name/"
