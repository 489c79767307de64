#!/usr/bin/env bash
# Prepares, on this machine, what bench/gpu/check.sh needs on a GPU machine that has no .NET SDK and no network:
# the .NET runtime, the Release build of the CLI, tests and benchmarks (Linux x64 only), the perovskites CSV, and the
# OpenCL ICD loader. Everything lands in .device/ (git-ignored), which the device call carries.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.device
rm -rf "$out" && mkdir -p "$out"
stage=$(mktemp -d)

dotnet build SaGatSr.sln -c Release -v q -nologo >/dev/null
mkdir -p "$stage/app"
for project in src/Cli tests/SaGatSr.Tests bench/SaGatSr.Bench; do
  cp -r "$project"/bin/Release/net10.0/. "$stage/app/"
done
# Native assets for other platforms are most of the build's size.
find "$stage/app/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
tar -C "$stage/app" -cf - . | xz -T0 -6 > "$out/app.tar.xz"

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/*/ | sort -V | tail -n 1)
tar -C "$dotnet_root" -cf - dotnet host "shared/Microsoft.NETCore.App/$(basename "$runtime")" | xz -T0 -6 > "$out/dotnet.tar.xz"

xz -T0 -6 -c ../shared/data/perovskites/perovskites.csv > "$out/perovskites.csv.xz"

(cd "$stage" && apt-get download -q ocl-icd-libopencl1 >/dev/null && dpkg -x ocl-icd-libopencl1_*.deb opencl)
mkdir -p "$out/opencl" && cp -L "$stage"/opencl/usr/lib/x86_64-linux-gnu/libOpenCL.so.1 "$out/opencl/"
rm -rf "$stage"
du -sh "$out"/*
