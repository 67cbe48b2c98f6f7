#!/usr/bin/env bash
# Build and run the whole test suite twice: a plain build and one under
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
cmake -S . -B build-asan -DMEDVEIL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

# A short fuzz pass of every format plugin and the policy compiler (libFuzzer,
# clang), replaying the saved crashers first. Skipped without clang.
if command -v clang >/dev/null && command -v clang++ >/dev/null &&
   printf 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){(void)d;(void)n;return 0;}\n' |
     clang -x c -fsanitize=fuzzer,address,undefined - -o /dev/null 2>/dev/null; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DMEDVEIL_FUZZ=ON -DMEDVEIL_SANITIZE=OFF \
    -DMEDVEIL_FUZZ_SECONDS="${MEDVEIL_FUZZ_SECONDS:-30}" >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_format_dicom fuzz_policy \
    fuzz_format_png fuzz_format_jpeg fuzz_format_nifti
  ctest --test-dir build-fuzz -R '^fuzz\.' --output-on-failure -j"$jobs"
else
  echo "fuzz pass skipped (no clang with libFuzzer)"
fi
