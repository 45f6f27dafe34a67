//! Targets without an int8 micro-kernel: `available()` is false, so no `Int8Matrix` is ever packed
//! and the model runs candle's quantized products instead. The functions exist for the shared code
//! to compile; nothing calls them.

use super::{Int8Matrix, MicroTile};

pub type Activation = u8;
pub const OFFSET: i32 = 0;
/// 8-bit weights are stored signed.
pub const UNSIGNED_WEIGHTS: bool = false;
pub const LIMIT: f32 = 127.0;
pub const INTERLEAVED_ROWS: bool = false;
pub const REQUIRES: &str = "an x86 CPU with AVX-512 VNNI or WebAssembly SIMD";

pub fn available() -> bool {
    false
}

/// # Safety
/// Never called: see the module comment.
pub unsafe fn quantize_rows(_values: &[f32], _quantized: &mut [Activation], _scales: &mut [f32], _sums: Option<&mut [i32]>) {
    unreachable!("no Int8Matrix exists on this target")
}

/// # Safety
/// Never called: see the module comment.
pub unsafe fn micro_kernel<const ROWS: usize, const NIBBLES: bool>(_matrix: &Int8Matrix, _tile: MicroTile<'_>) {
    unreachable!("no Int8Matrix exists on this target")
}
