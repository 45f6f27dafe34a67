//! The int8 micro-kernel for WebAssembly SIMD, in two ways of multiplying, each exact in integers:
//!
//! - widened: weights widened to 16 bits and `i32x4.dot_i16x8_s`, 8 products per instruction, in
//!   every build;
//! - relaxed: relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s`, 16 products per instruction with
//!   the sum added in, in the builds with relaxed SIMD, where the engine computes it as x86's
//!   `vpdpbusd` does (unsigned second operand, no saturation). The standard defines its second
//!   operand only for 0..=127 and lets engines differ above: Chromium on CPUs with AVX-VNNI emits
//!   `vpdpbusd`; without it, `pmaddubsw`, which saturates; on Arm, signed `sdot`. So the builds with
//!   relaxed SIMD store 8-bit weights as `q + 128` (the second operand; see `UNSIGNED_WEIGHTS` in
//!   `mod.rs`), ask the engine once ([`relaxed_dot_is_exact`]) and fall back to widening where the
//!   answer is not exact. Giving one side 7 bits instead, the portable reading, was tried with the
//!   activations: the built-in model's text moved away from the CLI's.
//!
//! A tile is `ROWS` rows × 4 or 8 columns at a time (as many as each way's sums leave registers
//! for), walked over the 32-column panel: engines map wasm SIMD onto 16 vector registers, which the
//! accumulators of a bigger tile would overflow.

use core::arch::wasm32::*;
use std::mem::MaybeUninit;

use super::super::elementwise;
use super::{block_bytes, Int8Matrix, MicroTile, TileSlices, BLOCK, PANEL};

pub const REQUIRES: &str = "WebAssembly SIMD";

/// Always: a module built with SIMD only compiles in engines that have it.
pub fn available() -> bool {
    true
}

/// Activations as stored: in the SIMD128 build 16-bit, the widened dot product's operand; in the
/// relaxed-SIMD builds bytes, the relaxed dot product's signed operand. Never shifted.
#[cfg(not(target_feature = "relaxed-simd"))]
pub type Activation = i16;
#[cfg(target_feature = "relaxed-simd")]
pub type Activation = i8;
pub const OFFSET: i32 = 0;
/// In the relaxed-SIMD builds 8-bit weights are stored as `q + 128`: the relaxed dot product reads
/// its second operand as unsigned where it is exact.
pub const UNSIGNED_WEIGHTS: bool = cfg!(target_feature = "relaxed-simd");
pub const LIMIT: f32 = 127.0;
/// A micro-tile's activation rows take turns by groups of 4 values (see `interleave_tiles` in
/// `mod.rs`): the kernel then reads a group of every row at constant offsets from one address, where
/// separate rows cost the engine an address addition per read.
pub const INTERLEAVED_ROWS: bool = true;

/// Quantizes rows block by block, one scale per block, `max |x| / LIMIT` (0 for an all-zero block),
/// `q` rounded to nearest, ties to even; where asked also the sum of the block's values `Σ q`.
///
/// # Safety
/// Nothing beyond the module's SIMD, which every build of it has.
pub unsafe fn quantize_rows(values: &[f32], quantized: &mut [Activation], scales: &mut [f32], mut sums: Option<&mut [i32]>) {
    let blocks = values.chunks_exact(BLOCK).zip(quantized.chunks_exact_mut(BLOCK)).zip(scales.iter_mut());
    for (block, ((values, quantized), scale)) in blocks.enumerate() {
        // SAFETY: `values` is a block of 32, eight loads of 4.
        let vectors: [v128; 8] = std::array::from_fn(|i| unsafe { v128_load(values.as_ptr().add(4 * i).cast()) });
        let max = vectors.iter().fold(f32x4_splat(0.0), |max, &v| f32x4_max(max, f32x4_abs(v)));
        let max = f32x4_max(max, i32x4_shuffle::<2, 3, 0, 1>(max, max));
        let max = f32x4_extract_lane::<0>(max).max(f32x4_extract_lane::<1>(max));
        *scale = max / LIMIT;
        let inverse = f32x4_splat(if *scale > 0.0 { 1.0 / *scale } else { 0.0 });
        // f32x4.nearest rounds ties to even; |q| <= LIMIT fits a byte
        let q = vectors.map(|v| i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v, inverse))));
        let sixteen_bit: [v128; 4] = std::array::from_fn(|pair| i16x8_narrow_i32x4(q[2 * pair], q[2 * pair + 1]));
        if size_of::<Activation>() == 2 {
            for (eight, quantized) in sixteen_bit.iter().zip(quantized.chunks_exact_mut(8)) {
                // SAFETY: `quantized` holds 8 16-bit values.
                unsafe { v128_store(quantized.as_mut_ptr().cast(), *eight) };
            }
        } else {
            for (half, quantized) in quantized.chunks_exact_mut(16).enumerate() {
                let bytes = i8x16_narrow_i16x8(sixteen_bit[2 * half], sixteen_bit[2 * half + 1]);
                // SAFETY: `quantized` holds 16 bytes.
                unsafe { v128_store(quantized.as_mut_ptr().cast(), bytes) };
            }
        }
        if let Some(sums) = sums.as_deref_mut() {
            let total = q.iter().fold(i32x4_splat(0), |total, &q| i32x4_add(total, q));
            let total = i32x4_add(total, i32x4_shuffle::<2, 3, 0, 1>(total, total));
            sums[block] = i32x4_extract_lane::<0>(total) + i32x4_extract_lane::<1>(total);
        }
    }
}

/// `ROWS` activation rows × one 32-column panel, over the whole depth; `NIBBLES` for 4-bit weights.
///
/// # Safety
/// Nothing beyond the module's SIMD: the tile is checked once ([`TileSlices::of`]), and panics if
/// wrong.
pub unsafe fn micro_kernel<const ROWS: usize, const NIBBLES: bool>(matrix: &Int8Matrix, tile: MicroTile<'_>) {
    #[cfg(target_feature = "relaxed-simd")]
    if takes_relaxed_way() {
        // SAFETY: as this function's.
        return unsafe { kernel::<ROWS, NIBBLES, { Relaxed::VECTORS }, Relaxed>(matrix, tile) };
    }
    // SAFETY: as this function's.
    unsafe { kernel::<ROWS, NIBBLES, { Widened::VECTORS }, Widened>(matrix, tile) }
}

/// One way of summing a block's products, 4 columns of one row at a time.
trait Dot {
    /// Vectors of 4 columns per step of the kernel: as many as the registers hold, with the sums of
    /// `ROWS` rows for each.
    const VECTORS: usize;
    /// A group of 4 columns × 4 weights, as this way multiplies them.
    type Weights: Copy;
    /// A block's sums for 4 columns of one row, as this way adds them up.
    type Sums: Copy;
    fn weights(bytes: v128) -> Self::Weights;
    /// The row's 4 activations at `activations`, as this way multiplies them.
    ///
    /// # Safety
    /// `activations` can be read for 4 values.
    unsafe fn activations(activations: *const Activation) -> v128;
    /// A group of 4 activations of each of `ROWS` interleaved rows at `group` (`INTERLEAVED_ROWS`),
    /// each as [`Dot::activations`] gives it.
    ///
    /// # Safety
    /// `group` can be read for `4 * ROWS` values.
    unsafe fn activations_of_rows<const ROWS: usize>(group: *const Activation) -> [v128; ROWS] {
        // SAFETY: the caller's.
        unsafe { row_by_row::<Self, ROWS>(group) }
    }
    /// What [`Dot::add`] adds into, for 4 columns whose integer sums start at `start`.
    fn start(start: i32) -> Self::Sums;
    /// Adds the products of a row's 4 activations and 4 columns' weights into `sums`.
    fn add(sums: &mut Self::Sums, weights: Self::Weights, activations: v128);
    /// The 4 columns' integer sums from what [`Dot::add`] left.
    fn column_sums(sums: Self::Sums) -> v128;
}

/// [`Dot::activations_of_rows`] one row at a time.
///
/// # Safety
/// As [`Dot::activations_of_rows`]'.
unsafe fn row_by_row<D: Dot + ?Sized, const ROWS: usize>(group: *const Activation) -> [v128; ROWS] {
    // SAFETY: row `row`'s 4 values are within the `4 * ROWS` the caller vouches for.
    std::array::from_fn(|row| unsafe { D::activations(group.add(4 * row)) })
}

/// `i32x4.dot_i16x8_s` on weights widened to 16 bits: columns 0 and 1 then 2 and 3, each as two
/// partial sums (even and odd pairs of values), as the instruction leaves them.
struct Widened;

impl Dot for Widened {
    const VECTORS: usize = 1;
    type Weights = [v128; 2];
    type Sums = [v128; 2];

    fn weights(bytes: v128) -> [v128; 2] {
        if UNSIGNED_WEIGHTS {
            [u16x8_extend_low_u8x16(bytes), u16x8_extend_high_u8x16(bytes)]
        } else {
            [i16x8_extend_low_i8x16(bytes), i16x8_extend_high_i8x16(bytes)]
        }
    }

    unsafe fn activations(activations: *const Activation) -> v128 {
        // the row's 4 values, twice, as 16 bits
        // SAFETY: the caller's.
        unsafe {
            if size_of::<Activation>() == 2 {
                v128_load64_splat(activations.cast())
            } else {
                i16x8_extend_low_i8x16(v128_load32_splat(activations.cast()))
            }
        }
    }

    fn start(start: i32) -> [v128; 2] {
        // in the even partial sums: those of columns 0 and 2 in the first vector, 1 and 3 in the second
        [i32x4(start, 0, start, 0); 2]
    }

    fn add(sums: &mut [v128; 2], weights: [v128; 2], a: v128) {
        sums[0] = i32x4_add(sums[0], i32x4_dot_i16x8(weights[0], a));
        sums[1] = i32x4_add(sums[1], i32x4_dot_i16x8(weights[1], a));
    }

    fn column_sums(sums: [v128; 2]) -> v128 {
        let even = i32x4_shuffle::<0, 2, 4, 6>(sums[0], sums[1]);
        let odd = i32x4_shuffle::<1, 3, 5, 7>(sums[0], sums[1]);
        i32x4_add(even, odd)
    }
}

/// `i32x4.relaxed_dot_i8x16_i7x16_add_s` with the activation bytes as its first (signed) operand and
/// the `q + 128` weights as its second: one lane per column, the sum added in. 8 columns per step:
/// each splatted activation then serves two products, and the rows' 8 sums are independent chains,
/// enough to cover `vpdpbusd`'s latency. Only where [`relaxed_dot_is_exact`].
#[cfg(target_feature = "relaxed-simd")]
struct Relaxed;

#[cfg(target_feature = "relaxed-simd")]
impl Dot for Relaxed {
    const VECTORS: usize = 2;
    type Weights = v128;
    type Sums = v128;

    fn weights(bytes: v128) -> v128 {
        bytes
    }

    unsafe fn activations(activations: *const Activation) -> v128 {
        // SAFETY: the caller's.
        unsafe { v128_load32_splat(activations.cast()) }
    }

    /// Four rows' groups are one vector: one load and a splat of each lane, where V8 gives every
    /// `v128.load32_splat` its own address addition.
    unsafe fn activations_of_rows<const ROWS: usize>(group: *const Activation) -> [v128; ROWS] {
        if ROWS != 4 {
            // SAFETY: the caller's.
            return unsafe { row_by_row::<Self, ROWS>(group) };
        }
        // SAFETY: the caller's: 16 bytes.
        let rows = unsafe { v128_load(group.cast()) };
        let lanes = [i32x4_shuffle::<0, 0, 0, 0>(rows, rows), i32x4_shuffle::<1, 1, 1, 1>(rows, rows), i32x4_shuffle::<2, 2, 2, 2>(rows, rows), i32x4_shuffle::<3, 3, 3, 3>(rows, rows)];
        std::array::from_fn(|row| lanes[row])
    }

    fn start(start: i32) -> v128 {
        i32x4_splat(start)
    }

    fn add(sums: &mut v128, weights: v128, a: v128) {
        *sums = i32x4_relaxed_dot_i8x16_i7x16_add(a, weights, *sums);
    }

    fn column_sums(sums: v128) -> v128 {
        sums
    }
}

/// Set by the tests alone, so that both ways run on an engine that takes the relaxed one.
#[cfg(all(test, target_feature = "relaxed-simd"))]
pub static WIDEN_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(target_feature = "relaxed-simd")]
fn takes_relaxed_way() -> bool {
    #[cfg(test)]
    if WIDEN_ONLY.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    relaxed_dot_is_exact()
}

/// Whether this engine's relaxed dot product reads its second operand as unsigned bytes and sums
/// without saturating, as `vpdpbusd` does: then `q + 128` activations give exact products. Asked
/// once, on values that tell the three known lowerings apart.
#[cfg(target_feature = "relaxed-simd")]
pub fn relaxed_dot_is_exact() -> bool {
    static EXACT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXACT.get_or_init(|| {
        let dot = |signed: i8, unsigned: u8| {
            // black_box: the answer must come from the engine, not from the compiler folding it
            let (a, b) = std::hint::black_box((i8x16_splat(signed), u8x16_splat(unsigned)));
            i32x4_extract_lane::<0>(i32x4_relaxed_dot_i8x16_i7x16_add(a, b, i32x4_splat(0)))
        };
        // saturating `pmaddubsw` gives 2 · 32767; signed `sdot` gives -508 and 512
        dot(127, 255) == 4 * 127 * 255 && dot(-128, 255) == -4 * 128 * 255
    })
}

/// `a · b + c`: fused where relaxed SIMD lets the engine fuse it, one instruction fewer per block
/// and row in the kernel's sums.
#[inline(always)]
fn multiply_add(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    return f32x4_relaxed_madd(a, b, c);
    #[cfg(not(target_feature = "relaxed-simd"))]
    return f32x4_add(f32x4_mul(a, b), c);
}

/// `VECTORS` is `D::VECTORS`, passed again because stable Rust cannot size an array by an associated
/// constant of a generic type.
///
/// # Safety
/// As [`micro_kernel`]'s.
unsafe fn kernel<const ROWS: usize, const NIBBLES: bool, const VECTORS: usize, D: Dot>(matrix: &Int8Matrix, tile: MicroTile<'_>) {
    let slices = TileSlices::of::<ROWS, NIBBLES>(matrix, &tile);
    for first in (0..PANEL).step_by(4 * VECTORS) {
        // SAFETY: `first + 4 * VECTORS <= 32` biases.
        let mut sums = [std::array::from_fn(|vector| unsafe { v128_load(slices.bias.as_ptr().add(first + 4 * vector).cast()) }); ROWS];
        for block in 0..slices.blocks {
            // SAFETY: `block < blocks` and `first + 4 * VECTORS <= 32`, as `add_block` asks.
            unsafe { add_block::<ROWS, NIBBLES, VECTORS, D>(&slices, block, first, &mut sums) };
        }
        for (row, sums) in sums.iter().enumerate() {
            let out = &mut tile.output[row * tile.output_stride + tile.panel * PANEL + first..][..4 * VECTORS];
            for (vector, &sum) in sums.iter().enumerate() {
                // SAFETY: `out` holds 4 values per vector.
                unsafe { v128_store(out.as_mut_ptr().add(4 * vector).cast(), sum) };
            }
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

/// Adds one block's products for columns `first..first + 4 * VECTORS` of `ROWS` rows to `sums`.
///
/// # Safety
/// `block < slices.blocks` and `first + 4 * VECTORS <= 32`. The reads below are unchecked: with
/// these, `row < ROWS` and `group < 8` each stays within the slices `TileSlices::of` checked, which
/// hold per block 32 scales and minimums (where `NIBBLES`) and `block_bytes` of weights, `ROWS ×
/// depth` activations (interleaved), and per row `blocks` scales and sum terms (where
/// `SumTerms::read_by`).
#[inline(always)]
unsafe fn add_block<const ROWS: usize, const NIBBLES: bool, const VECTORS: usize, D: Dot>(
    slices: &TileSlices<'_>,
    block: usize,
    first: usize,
    sums: &mut [[v128; VECTORS]; ROWS],
) {
    let TileSlices { blocks, activations, activation_scales, activation_sum_terms, weights, scales, minimums, .. } = *slices;
    // 8-bit weights stored as `q + 128` add `128 · Σ qa` to a block's integer sum: start from its negative
    let mut dots: [[D::Sums; VECTORS]; ROWS] = std::array::from_fn(|row| {
        // SAFETY: `row * blocks + block < ROWS * blocks` unsigned starts (`SumTerms::read_by`).
        [D::start(if !NIBBLES && UNSIGNED_WEIGHTS { unsafe { *activation_sum_terms.unsigned_start.get_unchecked(row * blocks + block) } } else { 0 }); VECTORS]
    });
    // the block's 32 values of every row, the rows taking turns by groups of 4 (`INTERLEAVED_ROWS`)
    // SAFETY: `(block + 1) * 32 * ROWS <= depth * ROWS` activations.
    let block_activations = unsafe { activations.as_ptr().add(block * BLOCK * ROWS) };
    // where these columns' 4-byte groups start in each group of 4 values of the block (see
    // `Int8Matrix::weights`): 16 columns' 64 bytes, then the other 16's
    // SAFETY: `block * block_bytes + column_bytes` is within the block's bytes.
    let block_weights = unsafe { weights.as_ptr().add(block * block_bytes(NIBBLES) + first / 16 * 64 + first % 16 * 4) };
    // for 4-bit weights a value, not a constant, which the engine would build again in every iteration
    let low_nibbles = if NIBBLES { std::hint::black_box(u8x16_splat(15)) } else { u8x16_splat(15) };
    // 16 bytes hold 4 columns × 4 values of one group (8-bit weights) or of two (4-bit: the low
    // nibbles one group, the high the next); the vectors lie side by side within 16 columns' 64 bytes
    let groups_per_load = if NIBBLES { 2 } else { 1 };
    // A loop the compiler cannot unroll: unrolled, LLVM moves every load of the block ahead of the
    // products (wasm has no register limit for it to respect), and the engine spills most of them.
    for load in 0..std::hint::black_box(BLOCK / 4 / groups_per_load) {
        // SAFETY: `load * 128 + 16 * (vector + 1) <= block_bytes - column_bytes`, within the block.
        let bytes: [v128; VECTORS] = std::array::from_fn(|vector| unsafe { v128_load(block_weights.add(load * 128 + 16 * vector).cast()) });
        for half in 0..groups_per_load {
            let group = load * groups_per_load + half;
            let w = bytes.map(|bytes| {
                D::weights(match (NIBBLES, half) {
                    (false, _) => bytes,
                    (true, 0) => v128_and(bytes, low_nibbles),
                    // one 16-bit shift and the mask: what engines make of `u8x16_shr` on x86, which has no byte shift
                    (true, _) => v128_and(u16x8_shr(bytes, 4), low_nibbles),
                })
            });
            // SAFETY: `(group + 1) * ROWS * 4 <= 32 * ROWS` activations of the block.
            let a = unsafe { D::activations_of_rows::<ROWS>(block_activations.add(group * ROWS * 4)) };
            for (dots, &a) in dots.iter_mut().zip(&a) {
                for (dots, &w) in dots.iter_mut().zip(&w) {
                    D::add(dots, w, a);
                }
            }
        }
    }
    // SAFETY: `block * 32 + first + 4 * VECTORS <= blocks * 32` scales.
    let weight_scales: [v128; VECTORS] = std::array::from_fn(|vector| unsafe { v128_load(scales.as_ptr().add(block * PANEL + first + 4 * vector).cast()) });
    for (row, (sums, dots)) in sums.iter_mut().zip(dots).enumerate() {
        // SAFETY: `row * blocks + block < ROWS * blocks` activation scales.
        let activation_scale = f32x4_splat(unsafe { *activation_scales.get_unchecked(row * blocks + block) });
        for ((sum, dots), &weight_scales) in sums.iter_mut().zip(dots).zip(&weight_scales) {
            let products = f32x4_convert_i32x4(D::column_sums(dots));
            *sum = multiply_add(products, f32x4_mul(weight_scales, activation_scale), *sum);
        }
    }
    if NIBBLES {
        // affine weights, `w = d · q + m`: the block adds `m · Σ a`
        // SAFETY: `block * 32 + first + 4 * VECTORS <= blocks * 32` minimums (4-bit weights have them).
        let block_minimums: [v128; VECTORS] = std::array::from_fn(|vector| unsafe { v128_load(minimums.as_ptr().add(block * PANEL + first + 4 * vector).cast()) });
        for (row, sums) in sums.iter_mut().enumerate() {
            // SAFETY: `row * blocks + block < ROWS * blocks` scaled sums (4-bit weights read them).
            let activation_sum = f32x4_splat(unsafe { *activation_sum_terms.scaled.get_unchecked(row * blocks + block) });
            for (sum, &minimums) in sums.iter_mut().zip(&block_minimums) {
                *sum = multiply_add(minimums, activation_sum, *sum);
            }
        }
    }
}
