#!/usr/bin/env bash
# The whole GPU session in one call (run on the device machine from the repository root, after bench/gpu/pack.sh
# here): what the device is; every test that compares a backend with the float64 reference, with CUDA as the backend
# under test; `compare kernels`, `train-step` and `sr-eval` on CUDA beside the SIMD CPU; the perovskites trained on
# CUDA; OpenCL where the driver offers it. Each step has its own time limit so one hang costs only that step.
# Everything goes to $OUT/gpu-check.log; the training's metrics and history to $OUT/train-cuda-*.
# Usage: bench/gpu/check.sh [epochs]   (SKIP="tests opencl" leaves steps out)
set -u
OUT=${OUT:-/tmp/gpu-check}
epochs=${1:-15}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
skip=" ${SKIP:-} "
start=$(date +%s)
section() { echo; echo "=== [$(( $(date +%s) - start )) s] $*"; }
# step NAME SECONDS COMMAND...: runs unless NAME is in $SKIP, and says how it ended.
step() {
  local name=$1 limit=$2; shift 2
  if [[ $skip == *" $name "* ]]; then section "$name: skipped"; return; fi
  section "$name (limit $limit s): $*"
  timeout "$limit" "$@"
  echo "--- $name exit $?"
}

section "unpacking"
work=/tmp/sagatsr-gpu
rm -rf "$work" && mkdir -p "$work/dotnet" "$work/app" "$work/lib"
tar -C "$work/dotnet" -xJf .device/dotnet.tar.xz
tar -C "$work/app" -xJf .device/app.tar.xz
xz -dc .device/perovskites.csv.xz > "$work/perovskites.csv"
cp .device/opencl/libOpenCL.so.1 "$work/lib/"
export DOTNET_ROOT=$work/dotnet PATH=$work/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export LD_LIBRARY_PATH=$work/lib:${LD_LIBRARY_PATH:-}
app=$work/app
data=$work/perovskites.csv

section "device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv
nproc; free -g | head -2
# The NVIDIA OpenCL ICD is registered only where the driver's library is present.
if [ ! -e /etc/OpenCL/vendors/nvidia.icd ]; then
  icd=$(ldconfig -p | awk '/libnvidia-opencl.so.1/ {print $NF; exit}')
  [ -z "$icd" ] && icd=$(find / -xdev -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
  if [ -n "$icd" ]; then mkdir -p /etc/OpenCL/vendors && echo "$icd" > /etc/OpenCL/vendors/nvidia.icd; fi
fi
echo "OpenCL ICD: $(cat /etc/OpenCL/vendors/nvidia.icd 2>/dev/null || echo none)"
dotnet "$app/sagatsr.dll" devices
if ! dotnet "$app/sagatsr.dll" devices | grep -q '^  cuda:'; then
  # Fallback: an unversioned libcuda.so beside the versioned one, in case the import resolver missed it.
  real=$(ldconfig -p | awk '/libcuda.so.1/ {print $NF; exit}')
  echo "CUDA not found through the resolver; linking $real as libcuda.so"
  [ -n "$real" ] && ln -sf "$real" "$work/lib/libcuda.so"
  dotnet "$app/sagatsr.dll" devices
fi

step tests 150 env SAGATSR_DEVICE=cuda dotnet "$app/SaGatSr.Tests.dll" '"cuda'
step kernels 100 dotnet "$app/SaGatSr.Bench.dll" compare kernels --device cuda --no-emulated
step train-step 150 dotnet "$app/SaGatSr.Bench.dll" compare train-step --data "$data" --devices cpu,cuda --batch-size 16,64,256 \
  --pytorch cuda --python python3
# The same SIMD CPU path held to two cores, the development machine's size, for the speed-up goal.
step train-step-2core 120 taskset -c 0,1 env DOTNET_PROCESSOR_COUNT=2 dotnet "$app/SaGatSr.Bench.dll" compare train-step --data "$data" \
  --devices cpu --batch-size 16,64,256 --pytorch none
step sr-eval-large 90 dotnet "$app/SaGatSr.Bench.dll" compare sr-eval --devices cpu,cuda --samples 65536 --programs 1024
step train 150 dotnet "$app/sagatsr.dll" train "$data" --target heat_ref --device cuda --epochs "$epochs" --out "$work/train-cuda" --restart
for f in metrics.json history.csv; do cp "$work/train-cuda/$f" "$OUT/train-cuda-$f" 2>/dev/null; done
step sr-eval 60 dotnet "$app/SaGatSr.Bench.dll" compare sr-eval --devices interpreter,cpu,cuda
if dotnet "$app/sagatsr.dll" devices | grep -q '^  opencl:'; then
  step opencl 60 env SAGATSR_DEVICE=opencl dotnet "$app/SaGatSr.Tests.dll" '"opencl'
else
  section "opencl: no usable OpenCL GPU found (see devices above)"
fi
section "done"
