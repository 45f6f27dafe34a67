//! The int8 micro-kernel for WebAssembly SIMD: weights are widened to 16 bits and `i32x4.dot_i16x8_s`
//! multiplies them by 16-bit activations, 8 products per instruction, with the full 8-bit activations
//! of the x86 kernel, so the browser rounds exactly as that kernel does.
//!
//! Relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add` (16 products per instruction) was tried and
//! dropped: its second operand is only defined for 0..=127, so one side must give up a bit, and with
//! 7-bit activations the built-in model's text moved by up to 6 % of its letters from the CLI's, while
//! on CPUs without AVX-VNNI (this project's machines) Chromium lowers it to `pmaddubsw` + `pmaddwd` +
//! `paddd` and it ran no faster in a one-off browser timing.
//!
//! A tile is `ROWS` rows × 4 columns at a time, walked over the 32-column panel: engines map wasm
//! SIMD onto 16 vector registers, which the accumulators of a bigger tile would overflow.

use core::arch::wasm32::*;
use std::mem::MaybeUninit;

use super::super::elementwise;
use super::{block_bytes, Int8Matrix, MicroTile, TileSlices, BLOCK, PANEL};

pub const REQUIRES: &str = "WebAssembly SIMD";

/// Always: a module built with SIMD only compiles in engines that have it.
pub fn available() -> bool {
    true
}

/// 16-bit activations: `i32x4.dot_i16x8_s` multiplies them by the widened weights.
pub type Activation = i16;
/// Signed activations need no offset.
pub const OFFSET: i32 = 0;
pub const LIMIT: f32 = 127.0;

/// Columns per step of the micro-kernel: one vector of 4.
const STEP_COLUMNS: usize = 4;

/// Quantizes rows block by block, one scale per block, `max |x| / LIMIT` (0 for an all-zero block),
/// `q` rounded to nearest, ties to even; where asked also the block's quantized sum `scale · Σ q`.
///
/// # Safety
/// Nothing beyond the module's SIMD, which every build of it has.
pub unsafe fn quantize_rows(values: &[f32], quantized: &mut [Activation], scales: &mut [f32], mut sums: Option<&mut [f32]>) {
    let blocks = values.chunks_exact(BLOCK).zip(quantized.chunks_exact_mut(BLOCK)).zip(scales.iter_mut());
    for (block, ((values, quantized), scale)) in blocks.enumerate() {
        // SAFETY: `values` is a block of 32, eight loads of 4.
        let vectors: [v128; 8] = std::array::from_fn(|i| unsafe { v128_load(values.as_ptr().add(4 * i).cast()) });
        let max = vectors.iter().fold(f32x4_splat(0.0), |max, &v| f32x4_max(max, f32x4_abs(v)));
        let max = f32x4_max(max, i32x4_shuffle::<2, 3, 0, 1>(max, max));
        let max = f32x4_extract_lane::<0>(max).max(f32x4_extract_lane::<1>(max));
        *scale = max / LIMIT;
        let inverse = f32x4_splat(if *scale > 0.0 { 1.0 / *scale } else { 0.0 });
        // f32x4.nearest rounds ties to even; |q| <= LIMIT fits the activation type
        let q = vectors.map(|v| i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v, inverse))));
        for (pair, quantized) in quantized.chunks_exact_mut(8).enumerate() {
            // SAFETY: `quantized` holds 8 values.
            unsafe { v128_store(quantized.as_mut_ptr().cast(), i16x8_narrow_i32x4(q[2 * pair], q[2 * pair + 1])) };
        }
        if let Some(sums) = sums.as_deref_mut() {
            let total = q.iter().fold(i32x4_splat(0), |total, &q| i32x4_add(total, q));
            let total = i32x4_add(total, i32x4_shuffle::<2, 3, 0, 1>(total, total));
            let total = i32x4_extract_lane::<0>(total) + i32x4_extract_lane::<1>(total);
            sums[block] = *scale * total as f32;
        }
    }
}

/// `ROWS` activation rows × one 32-column panel, over the whole depth; `NIBBLES` for 4-bit weights.
///
/// # Safety
/// Nothing beyond the module's SIMD: the tile is checked once ([`TileSlices::of`]), and panics if
/// wrong.
pub unsafe fn micro_kernel<const ROWS: usize, const NIBBLES: bool>(matrix: &Int8Matrix, tile: MicroTile<'_>) {
    let TileSlices { blocks, depth, activations, activation_scales, activation_sums, weights, scales, minimums, bias, .. } =
        TileSlices::of::<ROWS, NIBBLES>(matrix, &tile);
    let block_bytes = block_bytes(NIBBLES);
    let low_nibbles = u8x16_splat(15);
    // The reads below are unchecked: with `block < blocks`, `row < ROWS`, `group < 8` and
    // `first + STEP_COLUMNS <= 32` each stays within the slices `TileSlices::of` checked, which hold
    // per block 32 scales and minimums (where `NIBBLES`) and
    // `block_bytes` of weights, per row `depth` activations and `blocks` scales and sums, and 32 biases.
    for first in (0..PANEL).step_by(STEP_COLUMNS) {
        // where these columns' 4-byte groups start in each group of 4 values of a block (see `Int8Matrix::weights`)
        let column_bytes = first / 16 * 64 + first % 16 * 4;
        // SAFETY: `first + 4 <= 32` biases.
        let mut sums = [unsafe { v128_load(bias.as_ptr().add(first).cast()) }; ROWS];
        for block in 0..blocks {
            // per row, columns 0 and 1 then 2 and 3, each as two partial sums (even and odd pairs of
            // values), as `i32x4.dot_i16x8_s` leaves them
            let mut dots = [[i32x4_splat(0); 2]; ROWS];
            // SAFETY: `block * block_bytes + column_bytes` is within the block's bytes.
            let block_weights = unsafe { weights.as_ptr().add(block * block_bytes + column_bytes) };
            for group in 0..BLOCK / 4 {
                // 4 columns × 4 values
                let w = if NIBBLES {
                    // SAFETY: `group / 2 * 128 + 16 <= 512 - column_bytes`, within the block.
                    let packed = unsafe { v128_load(block_weights.add(group / 2 * 128).cast()) };
                    if group % 2 == 0 {
                        v128_and(packed, low_nibbles)
                    } else {
                        u8x16_shr(packed, 4)
                    }
                } else {
                    // SAFETY: `group * 128 + 16 <= 1024 - column_bytes`, within the block.
                    unsafe { v128_load(block_weights.add(group * 128).cast()) }
                };
                let (low, high) = (i16x8_extend_low_i8x16(w), i16x8_extend_high_i8x16(w));
                for (row, dots) in dots.iter_mut().enumerate() {
                    // the row's 4 values, twice
                    // SAFETY: `row * depth + block * 32 + group * 4 + 4 <= ROWS * depth` activations.
                    let a = unsafe { v128_load64_splat(activations.as_ptr().add(row * depth + block * BLOCK + group * 4).cast()) };
                    dots[0] = i32x4_add(dots[0], i32x4_dot_i16x8(low, a));
                    dots[1] = i32x4_add(dots[1], i32x4_dot_i16x8(high, a));
                }
            }
            // SAFETY: `block * 32 + first + 4 <= blocks * 32` scales.
            let weight_scales = unsafe { v128_load(scales.as_ptr().add(block * PANEL + first).cast()) };
            for (row, (sum, dots)) in sums.iter_mut().zip(&dots).enumerate() {
                // SAFETY: `row * blocks + block < ROWS * blocks` activation scales.
                let activation_scale = f32x4_splat(unsafe { *activation_scales.get_unchecked(row * blocks + block) });
                let even = i32x4_shuffle::<0, 2, 4, 6>(dots[0], dots[1]);
                let odd = i32x4_shuffle::<1, 3, 5, 7>(dots[0], dots[1]);
                let products = f32x4_convert_i32x4(i32x4_add(even, odd));
                *sum = f32x4_add(*sum, f32x4_mul(products, f32x4_mul(weight_scales, activation_scale)));
            }
            if NIBBLES {
                // SAFETY: `block * 32 + first + 4 <= blocks * 32` minimums (4-bit weights have them).
                let block_minimums = unsafe { v128_load(minimums.as_ptr().add(block * PANEL + first).cast()) };
                for (row, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: `row * blocks + block < ROWS * blocks` activation sums (4-bit weights have them).
                    let activation_sum = f32x4_splat(unsafe { *activation_sums.get_unchecked(row * blocks + block) });
                    *sum = f32x4_add(*sum, f32x4_mul(block_minimums, activation_sum));
                }
            }
        }
        for (row, &sum) in sums.iter().enumerate() {
            let out = &mut tile.output[row * tile.output_stride + tile.panel * PANEL + first..][..STEP_COLUMNS];
            // SAFETY: `out` holds 4 values.
            unsafe { v128_store(out.as_mut_ptr().cast(), sum) };
        }
    }
    if tile.gelu {
        for row in 0..ROWS {
            let out = &mut tile.output[row * tile.output_stride + tile.panel * PANEL..][..PANEL];
            // SAFETY: the 32 values were written above.
            elementwise::gelu_in_place(unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) });
        }
    }
}
