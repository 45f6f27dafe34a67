//! The int8 micro-kernel for x86 CPUs with AVX-512 VNNI: `vpdpbusd` multiplies 64 unsigned
//! activation bytes by 64 signed weight bytes and adds groups of four into 16 sums, so activations
//! are stored as `q + 128`.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::super::elementwise;
use super::{block_bytes, Int8Matrix, MicroTile, TileSlices, BLOCK, PANEL};

/// Activations as `vpdpbusd` reads them: `q + 128`, `q` in -127..=127.
pub type Activation = u8;
pub const OFFSET: i32 = 128;
/// 8-bit weights are stored signed.
pub const UNSIGNED_WEIGHTS: bool = false;
/// The largest `|q|` of a quantized activation.
pub const LIMIT: f32 = 127.0;
pub const INTERLEAVED_ROWS: bool = false;
/// What [`available`] looks for, for messages.
pub const REQUIRES: &str = "an x86 CPU with AVX-512 VNNI";

pub fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni")
}

/// Quantizes rows block by block into `q + 128` bytes, one scale per block, `max |x| / 127` (0 for an
/// all-zero block), and where asked the sum of the block's quantized values `Σ q` (only 4-bit weights
/// use it); `q` is `x / scale` rounded to nearest, ties to even.
///
/// Written with intrinsics: the compiler's vectorisation of the per-value conversion to bytes was
/// poor, and this runs on every input of every int8 product.
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) fn quantize_rows(values: &[f32], quantized: &mut [Activation], scales: &mut [f32], mut sums: Option<&mut [i32]>) {
    let shift = _mm_set1_epi8(-128);
    let blocks = values.chunks_exact(BLOCK).zip(quantized.chunks_exact_mut(BLOCK)).zip(scales.iter_mut());
    for (block, ((values, quantized), scale)) in blocks.enumerate() {
        // SAFETY: `values` is a block of 32.
        let halves = unsafe { [_mm512_loadu_ps(values.as_ptr()), _mm512_loadu_ps(values.as_ptr().add(16))] };
        let max = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(halves[0]), _mm512_abs_ps(halves[1])));
        *scale = max / LIMIT;
        let inverse = _mm512_set1_ps(if *scale > 0.0 { 1.0 / *scale } else { 0.0 });
        let mut total = _mm512_setzero_si512();
        for (half, values) in halves.into_iter().enumerate() {
            // the default rounding mode is to nearest, ties to even; |q| <= 127 fits a byte
            let q = _mm512_cvtps_epi32(_mm512_mul_ps(values, inverse));
            total = _mm512_add_epi32(total, q);
            let bytes = _mm_xor_si128(_mm512_cvtepi32_epi8(q), shift);
            // SAFETY: `quantized` is a block of 32 bytes; this stores 16 of them.
            unsafe { _mm_storeu_si128(quantized.as_mut_ptr().add(half * 16).cast(), bytes) };
        }
        if let Some(sums) = sums.as_deref_mut() {
            sums[block] = _mm512_reduce_add_epi32(total);
        }
    }
}

/// `ROWS` activation rows × one 32-column panel, over the whole depth; `NIBBLES` for 4-bit weights.
///
/// # Safety
/// The CPU has AVX-512 VNNI. Everything else is checked once per tile ([`TileSlices::of`]), and
/// panics if wrong.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) unsafe fn micro_kernel<const ROWS: usize, const NIBBLES: bool>(matrix: &Int8Matrix, tile: MicroTile<'_>) {
    let TileSlices { blocks, depth, activations, activation_scales, activation_sum_terms, weights, scales, offsets, minimums, bias } =
        TileSlices::of::<ROWS, NIBBLES>(matrix, &tile);
    let block_bytes = block_bytes(NIBBLES);
    // SAFETY: `bias` holds 32 values.
    let bias = unsafe { [_mm512_loadu_ps(bias.as_ptr()), _mm512_loadu_ps(bias.as_ptr().add(16))] };
    let mut sums = [bias; ROWS];
    for block in 0..blocks {
        // The reads of this block are unchecked: with `block < blocks`, `row < ROWS` and
        // `group < 8` each stays within the slices checked above, which hold per block 32
        // offsets, scales and minimums and `block_bytes` of weights, and per row `depth`
        // activations and `blocks` scales and sums.
        // SAFETY: the block's 32 offsets are within `offsets`.
        let start = unsafe {
            let offsets = offsets.as_ptr().add(block * PANEL);
            [_mm512_loadu_si512(offsets.cast()), _mm512_loadu_si512(offsets.add(16).cast())]
        };
        let mut dots = [start; ROWS];
        let mut add_group = |group: usize, w: [__m512i; 2]| {
            for (row, dot) in dots.iter_mut().enumerate() {
                // SAFETY: `row * depth + block * 32 + group * 4 + 4 <= ROWS * depth`, within `activations`.
                let a = unsafe {
                    let four = activations.as_ptr().add(row * depth + block * BLOCK + group * 4);
                    _mm512_set1_epi32(std::ptr::read_unaligned(four.cast::<i32>()))
                };
                dot[0] = _mm512_dpbusd_epi32(dot[0], a, w[0]);
                dot[1] = _mm512_dpbusd_epi32(dot[1], a, w[1]);
            }
        };
        // SAFETY: the block's `block_bytes` are within `weights`.
        let weights = unsafe { weights.as_ptr().add(block * block_bytes) };
        if NIBBLES {
            let low = _mm512_set1_epi8(15);
            for pair in 0..BLOCK / 8 {
                // SAFETY: `pair * 128 + at + 64 <= 512`, the block's bytes.
                let packed = [0, 64].map(|at| unsafe { _mm512_loadu_si512(weights.add(pair * 128 + at).cast()) });
                add_group(2 * pair, packed.map(|w| _mm512_and_si512(w, low)));
                add_group(2 * pair + 1, packed.map(|w| _mm512_and_si512(_mm512_srli_epi16(w, 4), low)));
            }
        } else {
            for group in 0..BLOCK / 4 {
                // SAFETY: `group * 128 + at + 64 <= 1024`, the block's bytes.
                add_group(group, [0, 64].map(|at| unsafe { _mm512_loadu_si512(weights.add(group * 128 + at).cast()) }));
            }
        }
        // SAFETY: the block's 32 scales are within `scales`.
        let weight_scales = unsafe {
            let scales = scales.as_ptr().add(block * PANEL);
            [_mm512_loadu_ps(scales), _mm512_loadu_ps(scales.add(16))]
        };
        for (row, (sum, dot)) in sums.iter_mut().zip(&dots).enumerate() {
            // SAFETY: `row * blocks + block < ROWS * blocks`, the length of `activation_scales`.
            let activation_scale = _mm512_set1_ps(unsafe { *activation_scales.get_unchecked(row * blocks + block) });
            for half in 0..2 {
                let scale = _mm512_mul_ps(weight_scales[half], activation_scale);
                sum[half] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[half]), scale, sum[half]);
            }
        }
        if NIBBLES {
            // SAFETY: the block's 32 minimums are within `minimums` (4-bit weights, checked above).
            let minimums = unsafe {
                let minimums = minimums.as_ptr().add(block * PANEL);
                [_mm512_loadu_ps(minimums), _mm512_loadu_ps(minimums.add(16))]
            };
            for (row, sum) in sums.iter_mut().enumerate() {
                // SAFETY: `row * blocks + block < ROWS * blocks`, here the length of the scaled sums.
                let activation_sum = _mm512_set1_ps(unsafe { *activation_sum_terms.scaled.get_unchecked(row * blocks + block) });
                sum[0] = _mm512_fmadd_ps(minimums[0], activation_sum, sum[0]);
                sum[1] = _mm512_fmadd_ps(minimums[1], activation_sum, sum[1]);
            }
        }
    }
    for (row, sum) in sums.iter().enumerate() {
        let out = &mut tile.output[row * tile.output_stride + tile.panel * PANEL..][..PANEL];
        // SAFETY: `out` is 32 values, two stores of 16.
        unsafe {
            _mm512_storeu_ps(out.as_mut_ptr().cast(), sum[0]);
            _mm512_storeu_ps(out.as_mut_ptr().add(16).cast(), sum[1]);
        }
        if tile.gelu {
            // SAFETY: the 32 values were written just above.
            elementwise::gelu_in_place(unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) });
        }
    }
}
