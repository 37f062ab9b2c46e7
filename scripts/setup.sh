#!/usr/bin/env bash
# setup.sh - install the packages onnxc needs on Debian 12 (bookworm). Idempotent: when every
# package is already installed it only checks (dpkg-query) and returns in well under a second.
# Installing needs root; as another user it lists what is missing and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake
  llvm-19-dev clang-19
  libclang-rt-19-dev  # libFuzzer, ASan/UBSan/TSan runtimes (scripts/fuzz.sh, scripts/harden.sh)
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  libopenblas-dev libcmocka-dev
  python3-numpy python3-onnx
  valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: missing packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root to install them (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: installed ${missing[*]}"
