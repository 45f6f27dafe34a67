//! Our CPU kernels, and the one place that decides which of them a target has.
//!
//! The model calls the same types everywhere; what runs behind them depends on the target:
//!
//! | target | int8 products (q8_0, q4_0, q4_k matrices) | bf16 products (float layers of quantized models) |
//! |---|---|---|
//! | x86-64 with AVX-512 VNNI / BF16 (checked at run time) | `int8/avx512.rs` | `bf16.rs` |
//! | wasm32 with SIMD128 (every build) | `int8/wasm.rs`: relaxed SIMD's dot product where the build has it and the engine computes it as `vpdpbusd` (checked at run time), else `i32x4.dot_i16x8_s` | none: quantized models run the convs and attention in int8 instead (`int8/attention.rs`) |
//! | anything else, or an x86 CPU without those features | none: candle's own q8_0 / q4 code | none: f32 through candle |
//!
//! Where a kernel is missing, its matrix type cannot be made (`available()` is false and, on targets
//! without the kernel, the type has no values), so the model falls back to candle without a `cfg`
//! of its own.

mod elementwise;
mod int8;
mod tiled;

#[cfg(target_arch = "x86_64")]
mod bf16;
#[cfg(not(target_arch = "x86_64"))]
#[path = "bf16_unavailable.rs"]
mod bf16;

pub use bf16::{attention as bf16_attention, Bf16Matrix};
pub use elementwise::{gelu_erf, layer_norm_gelu_in_place, softmax_last_dim};
pub use int8::attention::{attention as int8_attention, takes_head_dim as int8_attention_takes};
pub use int8::{forward_side_by_side as int8_side_by_side, Int8Matrix};
pub use tiled::with_f32_values;
