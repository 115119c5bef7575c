#pragma once
// CPU run-time settings that have to be in the environment before the BLAS and OpenMP
// libraries initialise, that is before main(): the tools call this first and are
// re-executed once when something has to change.

namespace electra {

// What the process will spend its time on: fp32 runs go through OpenBLAS's sgemm, bf16
// runs through oneDNN (which uses LibTorch's OpenMP threads).
enum class MatmulBackend { openblas_fp32, onednn_bf16 };

// 1. OpenBLAS picks its kernels from the CPU model name; on a virtual CPU it can fall back to
//    "Prescott" (SSE3), measured here at 28 GFLOP/s against 117 with SkylakeX's kernels. When
//    the CPU has AVX2/AVX-512 but OpenBLAS chose a pre-AVX2 core, OPENBLAS_CORETYPE is set.
// 2. fp32: OpenBLAS's threads and OpenMP's spinning threads fight over the cores unless OpenMP
//    waits passively (OMP_WAIT_POLICY=PASSIVE, unless the user set it).
// Re-executes argv[0] via /proc/self/exe with the new environment (does not return) when a
// variable changed; ELECTRA_NO_CPU_TUNING=1 turns this off. Variables the user set win.
void tune_cpu_runtime(char** argv, MatmulBackend backend);

// glibc returns freed blocks above 128 KiB-32 MiB to the kernel and the next step faults the
// pages in again (~10% of an fp32 pre-training step): keep them in the heap.
void keep_freed_memory_in_heap();

}  // namespace electra
