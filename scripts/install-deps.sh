#!/usr/bin/env bash
# Installs every system package Cleave needs on Debian 12 (bookworm).
# Safe to run again: packages already present are left alone and apt is only
# called when something is missing. Run as root or through sudo.
set -euo pipefail

PACKAGES=(
  # compiler toolchain and LLVM/Clang 19
  build-essential cmake ninja-build pkg-config
  llvm-19-dev libclang-19-dev clang-19 llvm-19-tools
  # libFuzzer and the sanitizer runtimes for clang-19 (make fuzz, make check)
  libclang-rt-19-dev
  # libraries
  libyaml-cpp-dev libfmt-dev nlohmann-json3-dev libboost-dev libssl-dev
  libsqlite3-dev libhiredis-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  redis-server redis-tools sqlite3
  python3 curl
  # manifest-schema.test checks manifests against runtime/schema/ with these;
  # inspect-dot-graphviz.test draws `cleave inspect --format=dot` with dot
  python3-yaml python3-jsonschema graphviz
  # durability-order.test reads cleave-run's system calls
  strace
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root or install sudo" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
