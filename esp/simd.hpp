#pragma once
// Internal: <immintrin.h> for the AVX-512 code (gcm_mb.cpp, cbc_mb.cpp). GCC 12's AVX-512
// intrinsics fill the unused operand with _mm512_undefined_*(), a deliberate
// self-initialisation that -Wuninitialized reports at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
