#!/usr/bin/env bash
# hemoledger's one entry point. On a fresh Debian bookworm machine:
#   ./run.sh demo    install what is missing, build, start the engine on the
#                    embedded Kafka with a live demo feed (Ctrl-C stops it)
#   ./run.sh test    install, build, run every test through ctest, then a
#                    short fuzz campaign (FUZZ_SECONDS per target, default 15)
#   ./run.sh build   install and build only
#   ./run.sh fuzz [SECONDS] [TARGET...]
#                    build the libFuzzer targets with clang into build-fuzz/ and
#                    run each for SECONDS (default 300) from fuzz/corpus/
#   ./run.sh bench [--full]   install, build, run the benchmarks (bench/README.md)
#   ./run.sh package install, build the binary, make the Debian package
#                    build/hemoledger_VERSION_amd64.deb (docs/operations.md)
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  cmake g++ make pkg-config ccache
  librdkafka-dev librocksdb-dev libcereal-dev libspdlog-dev catch2
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev libssl-dev libjemalloc-dev zlib1g-dev
  libzint-dev libhpdf-dev
  kcat curl ca-certificates
)
# Only the tests need these: headless Chromium loads the dashboard; clang and
# its runtime (libFuzzer, ASan, UBSan) build and run the fuzz targets; openssl
# makes the self-signed certificate of the TLS test; prometheus (promtool)
# checks the alerting rules, dpkg-dev (dpkg-shlibdeps) makes the package and
# systemd (systemd-analyze) checks its unit in the operations tests;
# rsvg-convert (librsvg2-bin) and pdftoppm (poppler-utils) rasterise a printed
# label, and zbarimg (zbar-tools) reads its barcodes back.
TEST_PACKAGES=(chromium python3-hl7 clang libclang-rt-14-dev openssl prometheus dpkg-dev systemd
               librsvg2-bin poppler-utils zbar-tools)
# Only the package needs these: dpkg-shlibdeps computes its dependencies.
PACKAGE_PACKAGES=(dpkg-dev)
# Only the benchmarks need these: the PostgreSQL baseline.
BENCH_PACKAGES=(postgresql libpq-dev)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {
  echo "==> configuring and building into build/"
  cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build build -j"${JOBS:-2}"
}

# The fuzz targets (fuzz/CMakeLists.txt): clang, sanitizers, no engine.
build_fuzz() {
  echo "==> configuring and building the fuzz targets into build-fuzz/ (clang)"
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DHEMOLEDGER_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j"${JOBS:-2}" --target fuzz_targets
}

cmd="${1:-}"
shift || true
case "$cmd" in
  demo)
    install_packages "${PACKAGES[@]}"
    build
    echo "==> starting hemoledger on the embedded Kafka with the demo feed"
    echo "    open http://127.0.0.1:8080/ for the coordinators' dashboard; Ctrl-C to stop"
    exec build/hemoledger serve --demo --data-dir "${DATA_DIR:-hemoledger-data}" "$@"
    ;;
  test)
    install_packages "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build
    echo "==> running the tests"
    cd build
    ctest --output-on-failure -j"${JOBS:-2}" "$@"
    cd ..
    # A short campaign of every fuzz target from the kept corpus (FUZZ_SECONDS=0 skips it).
    if [ "${FUZZ_SECONDS:-15}" != 0 ]; then
      build_fuzz
      echo "==> a short fuzz campaign: ${FUZZ_SECONDS:-15} s per target, ${JOBS:-2} at a time"
      fuzz/run_campaign.sh build-fuzz "${FUZZ_SECONDS:-15}"
    fi
    ;;
  fuzz)
    install_packages cmake make ccache libcereal-dev nlohmann-json3-dev clang libclang-rt-14-dev
    build_fuzz
    seconds="${1:-300}"
    shift || true
    echo "==> fuzzing: ${seconds} s per target"
    fuzz/run_campaign.sh build-fuzz "$seconds" "$@"
    ;;
  build)
    install_packages "${PACKAGES[@]}"
    build
    ;;
  package)
    install_packages "${PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}"
    echo "==> configuring and building the binary into build/"
    cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
    cmake --build build -j"${JOBS:-2}" --target hemoledger
    echo "==> making the Debian package"
    (cd build && cpack -G DEB)
    ls -l build/hemoledger_*.deb
    ;;
  bench)
    install_packages "${PACKAGES[@]}" "${BENCH_PACKAGES[@]}"
    build
    exec bench/run_bench.sh build "$@"
    ;;
  *)
    echo "usage: ./run.sh demo|test|build|package|fuzz [SECONDS] [TARGET...]|bench [--full]" >&2
    exit 64
    ;;
esac
