//! Matrix products with bf16 operands and f32 sums, for the float layers of quantized models (conv
//! stack, positional conv, attention) on x86 CPUs with AVX-512 BF16.
//!
//! Why: once the transformer's matrices run in int8, the f32 products are the largest remaining cost
//! (for 10 s of audio on MMS-300m: conv stack ~49 GFLOP, attention ~24, positional conv ~8). `vdpbf16ps` does two multiply-adds per f32 lane, twice an f32 FMA's work, and bf16 keeps
//! f32's exponent range, so unlike int8 it needs no scales and no outlier handling: each operand is
//! rounded to 8 significant bits and the sums stay f32.
//!
//! Layout: the weight is packed per 32-column panel as pairs along the inner dimension, one `u32` per
//! column and pair (the lower half the even index), which is the operand order `vdpbf16ps` wants; an
//! input row converted to bf16 in order has the same pairs, so one 32-bit broadcast feeds 32 columns.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use candle_core::Result;
use rayon::prelude::*;

use super::elementwise;
use super::tiled::{self, TileKernel, PANEL};

/// A `[depth, columns]` matrix (input dimension first, as a conv's unfolded weight) packed for the
/// micro-kernel, with its bias.
#[derive(Debug)]
pub struct Bf16Matrix {
    columns: usize,
    depth: usize,
    /// Per panel: `depth / 2` (rounded up) pairs × 32 columns; columns past the last are zero.
    weights: Vec<u32>,
    /// Padded to whole panels.
    bias: Vec<f32>,
}

impl Bf16Matrix {
    /// Whether this CPU runs the kernel.
    pub fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bf16")
    }

    /// Packs a row-major `[depth, columns]` weight; refuses on a CPU without AVX-512 BF16, since the
    /// kernel's `unsafe` calls rely on every packed matrix having passed that check.
    pub fn new(weight: &[f32], depth: usize, columns: usize, bias: Option<&[f32]>) -> Result<Self> {
        Self::check(weight.len(), depth, columns, bias)?;
        Self::from_rows(depth, columns, bias, |row| &weight[row * columns..][..columns])
    }

    /// Packs a `[depth, columns]` matrix given row by row, `row(r)` holding its `columns` values (a
    /// conv weight, or attention's values read straight from the projection rows); refuses what
    /// [`Bf16Matrix::new`] refuses.
    fn from_rows<'a>(depth: usize, columns: usize, bias: Option<&[f32]>, row: impl Fn(usize) -> &'a [f32]) -> Result<Self> {
        Self::check(depth * columns, depth, columns, bias)?;
        let mut matrix = Self::zeroed(depth, columns, bias);
        let pairs = depth.div_ceil(2);
        for pair in 0..pairs {
            let (even, odd) = (row(2 * pair), (2 * pair + 1 < depth).then(|| row(2 * pair + 1)));
            for (panel, first) in (0..columns).step_by(PANEL).enumerate() {
                let count = (columns - first).min(PANEL);
                let lanes = &mut matrix.weights[(panel * pairs + pair) * PANEL..][..count];
                // SAFETY: `check` found AVX-512 BF16.
                unsafe { interleave_pairs(&even[first..][..count], odd.map(|odd| &odd[first..][..count]), lanes) };
            }
        }
        Ok(matrix)
    }

    /// Packs a `[depth, columns]` matrix given column by column, `column(c)` holding its `depth`
    /// values (attention's keys, each a row of the projection); refuses what [`Bf16Matrix::new`]
    /// refuses.
    fn from_columns<'a>(depth: usize, columns: usize, column: impl Fn(usize) -> &'a [f32]) -> Result<Self> {
        Self::check(depth * columns, depth, columns, None)?;
        let mut matrix = Self::zeroed(depth, columns, None);
        let pairs = depth.div_ceil(2);
        let mut converted = vec![0u32; pairs];
        for c in 0..columns {
            // SAFETY: `check` found AVX-512 BF16.
            unsafe { to_bf16_pairs(column(c), &mut converted) };
            let (panel, lane) = (c / PANEL, c % PANEL);
            for (pair, &bits) in converted.iter().enumerate() {
                matrix.weights[(panel * pairs + pair) * PANEL + lane] = bits;
            }
        }
        Ok(matrix)
    }

    fn check(values: usize, depth: usize, columns: usize, bias: Option<&[f32]>) -> Result<()> {
        if !Self::available() {
            candle_core::bail!("the bf16 kernel needs a CPU with AVX-512 BF16")
        }
        if values != depth * columns || depth == 0 || columns == 0 || bias.is_some_and(|b| b.len() != columns) {
            candle_core::bail!("bf16 matrix: {values} values and bias {:?} for [{depth}, {columns}]", bias.map(<[f32]>::len))
        }
        Ok(())
    }

    /// An all-zero matrix of the packed size (padding lanes stay zero), bias padded to whole panels.
    fn zeroed(depth: usize, columns: usize, bias: Option<&[f32]>) -> Self {
        let panels = columns.div_ceil(PANEL);
        let mut padded_bias = vec![0f32; panels * PANEL];
        if let Some(bias) = bias {
            padded_bias[..columns].copy_from_slice(bias);
        }
        Self { columns, depth, weights: vec![0; panels * depth.div_ceil(2) * PANEL], bias: padded_bias }
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The row-major `[rows, columns]` product, bias added, of input rows of `depth` values where row
    /// `i` starts at `input[i * row_stride]`: with `row_stride < depth` the rows overlap, which is how
    /// a strided conv reads its windows straight from time-major input without unfolding it first;
    /// with `row_stride > depth` they are spaced, as attention reads one head's columns.
    pub fn matmul(&self, input: &[f32], row_stride: usize, rows: usize) -> Result<Vec<f32>> {
        if rows > 0 && (rows - 1) * row_stride + self.depth > input.len() {
            candle_core::bail!("bf16 matmul: {rows} rows of {} every {row_stride} from {} values", self.depth, input.len())
        }
        Ok(tiled::matmul(self, input, row_stride, rows))
    }

    /// `ROWS` operand rows × one 32-column panel, over the whole depth.
    ///
    /// # Safety
    /// The CPU has AVX-512 BF16. Slice lengths are checked here, once per tile, and a short one
    /// panics: `rows` must hold `ROWS` rows of `depth / 2` (rounded up) pairs, and `output` `ROWS`
    /// rows of `columns` values (the last may end at the last column).
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn micro_kernel<const ROWS: usize>(&self, rows: &[u32], panel: usize, output: &mut [MaybeUninit<f32>]) {
        let pairs = self.depth.div_ceil(2);
        // these checks bound every unchecked read in the loop below
        let rows = &rows[..ROWS * pairs];
        let bias = &self.bias[panel * PANEL..][..PANEL];
        let weights = &self.weights[panel * pairs * PANEL..][..pairs * PANEL];
        // SAFETY: `bias` holds 32 values.
        let bias = unsafe { [_mm512_loadu_ps(bias.as_ptr()), _mm512_loadu_ps(bias.as_ptr().add(16))] };
        let mut sums = [bias; ROWS];
        for pair in 0..pairs {
            // SAFETY: pair `pair`'s 32 values lie within `weights` (pairs × 32); `__m512bh` is 64 plain bytes too.
            let (w0, w1) = unsafe {
                let w = weights.as_ptr().add(pair * PANEL);
                let load = |at: usize| std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(w.add(at).cast()));
                (load(0), load(16))
            };
            for (row, sum) in sums.iter_mut().enumerate() {
                // SAFETY: `row < ROWS` and `pair < pairs` index into `rows` (checked: ROWS × pairs); `__m512bh` is 64 plain bytes.
                let a = unsafe { std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(*rows.get_unchecked(row * pairs + pair) as i32)) };
                sum[0] = _mm512_dpbf16_ps(sum[0], a, w0);
                sum[1] = _mm512_dpbf16_ps(sum[1], a, w1);
            }
        }
        // the last panel may be partly past the last column: the stores are masked to the valid
        // columns, and the second half's address is formed only where it has some, so no pointer
        // leaves `output`
        let valid = (self.columns - panel * PANEL).min(PANEL);
        let masks = [lane_mask(valid), lane_mask(valid.saturating_sub(16))];
        for (row, sum) in sums.iter().enumerate() {
            let out = output[row * self.columns + panel * PANEL..][..valid].as_mut_ptr().cast::<f32>();
            // SAFETY: mask 0 enables the first min(valid, 16) lanes, all within the `valid` values at `out`.
            unsafe { _mm512_mask_storeu_ps(out, masks[0], sum[0]) };
            if valid > 16 {
                // SAFETY: `out + 16` is within the `valid` values, and mask 1 enables the `valid - 16` after it.
                unsafe { _mm512_mask_storeu_ps(out.add(16), masks[1], sum[1]) };
            }
        }
    }
}

/// `value` rounded to bf16 (to nearest, ties to even), in the low 16 bits; NaN stays NaN.
fn bf16_bits(value: f32) -> u32 {
    let bits = value.to_bits();
    if value.is_nan() {
        return (bits >> 16) | 0x40;
    }
    (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
}

/// The first `count` of 16 lanes.
fn lane_mask(count: usize) -> __mmask16 {
    if count >= 16 { 0xffff } else { (1u16 << count) - 1 }
}

/// Rounds two rows of up to 32 values to bf16 and interleaves them into `lanes`, the even row in the
/// low halves; a missing odd row (an odd depth's last pair) is zero. Rows shorter than `lanes` panic.
#[target_feature(enable = "avx512f,avx512bf16")]
fn interleave_pairs(even: &[f32], odd: Option<&[f32]>, lanes: &mut [u32]) {
    let count = lanes.len();
    let (even, odd) = (&even[..count], odd.map(|odd| &odd[..count]));
    // SAFETY: `__m256bh` and `__m256i` are both 32 plain bytes.
    let widen = |values: __m512| _mm512_cvtepu16_epi32(unsafe { std::mem::transmute::<__m256bh, __m256i>(_mm512_cvtneps_pbh(values)) });
    for start in (0..count).step_by(16) {
        let mask = lane_mask(count - start);
        // SAFETY: the mask enables only lanes `start..count`, which `even`, `odd` and `lanes` (all `count` long) hold.
        unsafe {
            let low = widen(_mm512_maskz_loadu_ps(mask, even.as_ptr().add(start)));
            let high = match odd {
                Some(odd) => widen(_mm512_maskz_loadu_ps(mask, odd.as_ptr().add(start))),
                None => _mm512_setzero_si512(),
            };
            _mm512_mask_storeu_epi32(lanes.as_mut_ptr().add(start).cast(), mask, _mm512_or_si512(low, _mm512_slli_epi32(high, 16)));
        }
    }
}

/// Rounds `values` to bf16 (to nearest, ties to even) into `pairs`, zero-padding an odd tail.
#[target_feature(enable = "avx512f,avx512bf16")]
fn to_bf16_pairs(values: &[f32], pairs: &mut [u32]) {
    let mut chunks = values.chunks_exact(PANEL);
    for (chunk, out) in (&mut chunks).zip(pairs.chunks_exact_mut(PANEL / 2)) {
        // SAFETY: `chunk` is 32 values (two loads of 16), `out` 16 pairs (a 64-byte store); `__m512bh` is 64 plain bytes.
        unsafe {
            let packed = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(chunk.as_ptr().add(16)), _mm512_loadu_ps(chunk.as_ptr()));
            _mm512_storeu_si512(out.as_mut_ptr().cast(), std::mem::transmute::<__m512bh, __m512i>(packed));
        }
    }
    let done = values.len() / PANEL * PANEL / 2;
    for (pair, two) in pairs[done..].iter_mut().zip(chunks.remainder().chunks(2)) {
        let bits = |v: Option<&f32>| v.map_or(0, |&v| bf16_bits(v));
        *pair = bits(two.first()) | bits(two.get(1)) << 16;
    }
}

// SAFETY: a `Bf16Matrix` exists only where `available()` held (see `new`).
unsafe impl TileKernel for Bf16Matrix {
    /// The task's rows as bf16 pairs, `depth / 2` (rounded up) per row.
    type Operand = Vec<u32>;
    type Unpacked = ();

    fn columns(&self) -> usize {
        Bf16Matrix::columns(self)
    }

    fn prepare(&self, input: &[f32], rows: usize, row_stride: usize) -> Vec<u32> {
        let pairs = self.depth.div_ceil(2);
        let mut operand = vec![0u32; rows * pairs];
        for (row, out) in operand.chunks_exact_mut(pairs).enumerate() {
            // SAFETY: the trait's contract: AVX-512 BF16 is there.
            unsafe { to_bf16_pairs(&input[row * row_stride..][..self.depth], out) };
        }
        operand
    }

    fn unpack_panel(&self, _panel: usize, _into: &mut ()) {}

    unsafe fn tile<const ROWS: usize>(&self, operand: &Vec<u32>, _unpacked: &(), first_row: usize, panel: usize, output: &mut [MaybeUninit<f32>]) {
        // SAFETY: the trait's contract: AVX-512 BF16 is there (the kernel checks the slices itself).
        unsafe { self.micro_kernel::<ROWS>(&operand[first_row * self.depth.div_ceil(2)..], panel, output) };
    }
}

/// Queries per step of [`attention`]: their score rows (`frames` values each) stay in L2 cache
/// between the product that writes them, the softmax and the product that reads them.
const QUERY_BLOCK: usize = 48;

/// Attention without masking, both products in bf16: `softmax(q kᵀ · scale) v` per head, for one
/// utterance's fused projections `qkv` of `frames` rows `[q | k | v]`, each of `heads × head_dim`
/// values. Returns the `[frames, heads × head_dim]` context, heads side by side as in the input.
///
/// Heads run in parallel, each reading its columns of `qkv` in place (no per-head copies of q, k,
/// v), and each takes its queries a block at a time, so no `frames²` score matrix is ever whole:
/// writing it out and reading it back twice was memory-bound.
pub fn attention(qkv: &[f32], frames: usize, heads: usize, head_dim: usize, scale: f32) -> Result<Vec<f32>> {
    let hidden = heads * head_dim;
    let row = 3 * hidden;
    if qkv.len() != frames * row {
        candle_core::bail!("bf16 attention: {} values are not {frames} rows of q, k, v for {heads} heads of {head_dim}", qkv.len())
    }
    let contexts = (0..heads)
        .into_par_iter()
        .map(|h| {
            let (q, k, v) = (h * head_dim, hidden + h * head_dim, 2 * hidden + h * head_dim);
            let keys = Bf16Matrix::from_columns(head_dim, frames, |t| &qkv[t * row + k..][..head_dim])?;
            let values = Bf16Matrix::from_rows(frames, head_dim, None, |t| &qkv[t * row + v..][..head_dim])?;
            let mut context = Vec::with_capacity(frames * head_dim);
            for first in (0..frames).step_by(QUERY_BLOCK) {
                let queries = QUERY_BLOCK.min(frames - first);
                let mut scores = keys.matmul(&qkv[first * row + q..], row, queries)?;
                elementwise::softmax_rows(&mut scores, frames, scale);
                context.extend(values.matmul(&scores, frames, queries)?);
            }
            Ok(context)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut context = vec![0f32; frames * hidden];
    context.par_chunks_mut(hidden).enumerate().for_each(|(t, out)| {
        for (out, head) in out.chunks_exact_mut(head_dim).zip(&contexts) {
            out.copy_from_slice(&head[t * head_dim..][..head_dim]);
        }
    });
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Tensor;

    fn random(count: usize, seed: u64) -> Vec<f32> {
        // a fixed LCG: the test must not depend on an RNG crate's stream
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0
            })
            .collect()
    }

    fn round_bf16(v: f32) -> f64 {
        half::bf16::from_f32(v).to_f64()
    }

    #[cfg_attr(not(cpu_runs_bf16_kernel), ignore = "needs AVX-512 BF16, which this CPU lacks (nor is the bf16 kernel used here)")]
    #[test]
    fn matches_the_bf16_rounded_product_for_every_shape() -> Result<()> {
        // odd and even depths (pair padding, vector tail), column tails (of 1-15 columns, whose second
        // half-panel is empty, and of 16-31), every micro-tile row tail, one and two tasks, and
        // overlapping rows (a stride-2 conv window of 3 frames × 5 channels)
        for (rows, depth, columns, row_stride) in
            [(1, 1, 1, 1), (7, 15, 40, 10), (53, 64, 32, 64), (100, 77, 70, 80), (49, 3 * 5, 33, 2 * 5), (13, 20, 79, 20)]
        {
            let weight = random(depth * columns, 7);
            let bias = random(columns, 8);
            let input = random((rows - 1) * row_stride + depth, rows as u64);
            let ours = Bf16Matrix::new(&weight, depth, columns, Some(&bias))?.matmul(&input, row_stride, rows)?;
            for row in 0..rows {
                for column in 0..columns {
                    let exact: f64 = (0..depth)
                        .map(|k| round_bf16(input[row * row_stride + k]) * round_bf16(weight[k * columns + column]))
                        .sum::<f64>()
                        + bias[column] as f64;
                    let got = ours[row * columns + column] as f64;
                    assert!((got - exact).abs() < 1e-4, "{rows}x{depth}x{columns} at ({row}, {column}): {got} vs {exact}");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn rounds_to_bf16_as_the_half_crate_does() {
        // ties both ways, the largest finite values, infinities, subnormals, signed zeros
        let patterns = [0x3f80_8000u32, 0x3f81_8000, 0x3f80_7fff, 0x7f7f_ffff, 0xff7f_8000, 0x7f80_0000, 0x0000_8001, 0x8000_0000, 0];
        for bits in patterns.into_iter().chain((0..10_000).map(|i: u32| i.wrapping_mul(2_654_435_761))) {
            let value = f32::from_bits(bits);
            if value.is_nan() {
                assert!(f32::from_bits(bf16_bits(value) << 16).is_nan(), "{bits:#x} stays NaN");
            } else {
                assert_eq!(bf16_bits(value), u32::from(half::bf16::from_f32(value).to_bits()), "{bits:#x}");
            }
        }
    }

    #[cfg_attr(not(cpu_runs_bf16_kernel), ignore = "needs AVX-512 BF16, which this CPU lacks (nor is the bf16 kernel used here)")]
    #[test]
    fn attention_is_close_to_f32() -> Result<()> {
        let device = candle_core::Device::Cpu;
        // 3 heads of 24 values, 53 frames (a task and a tail)
        let (frames, heads, head_dim) = (53, 3, 24);
        let hidden = heads * head_dim;
        let qkv = random(frames * 3 * hidden, 1);
        let scale = 0.3;
        let ours = attention(&qkv, frames, heads, head_dim, scale)?;
        // the same in f32 through candle, heads split the usual way
        let fused = Tensor::from_vec(qkv, (frames, 3 * hidden), &device)?;
        let split = |i: usize| fused.narrow(1, i * hidden, hidden)?.reshape((frames, heads, head_dim))?.transpose(0, 1)?.contiguous();
        let (q, k, v) = ((split(0)? * scale as f64)?, split(1)?, split(2)?);
        let float = elementwise::softmax_last_dim(&q.matmul(&k.t()?)?)?.matmul(&v)?.transpose(0, 1)?.reshape((frames, hidden))?;
        let ours = Tensor::from_vec(ours, (frames, hidden), &device)?;
        let relative = ((&ours - &float)?.sqr()?.sum_all()?.sqrt()? / float.sqr()?.sum_all()?.sqrt()?)?.to_scalar::<f32>()?;
        // bf16 keeps 8 significant bits (relative rounding up to 2^-9 ≈ 2e-3 per operand)
        assert!(relative < 5e-3, "relative error {relative}");
        assert!(relative > 0.0, "the bf16 path must differ from f32, or it was not taken");
        assert!(attention(&random(10, 2), 2, 1, 2, 1.0).is_err(), "10 values are not 2 rows of 3 × 2");
        Ok(())
    }

    #[test]
    fn rejects_what_it_cannot_run() {
        let refused = |depth, columns, bias: Option<&[f32]>| Bf16Matrix::new(&random(6, 1), depth, columns, bias).is_err();
        assert!(refused(4, 2, None), "6 values are not [4, 2]");
        assert!(refused(3, 2, Some(&[0.0])), "one bias for two columns");
        assert_eq!(!refused(3, 2, None), Bf16Matrix::available(), "packs exactly where it can run");
        if Bf16Matrix::available() {
            let matrix = Bf16Matrix::new(&random(6, 1), 3, 2, None).expect("fits");
            assert!(matrix.matmul(&random(10, 2), 2, 5).is_err(), "the fifth row would end at 11 of 10 values");
            assert!(matrix.matmul(&random(10, 2), 2, 4).is_ok(), "the fourth ends at 9");
        }
    }

    #[test]
    #[cfg_attr(not(cpu_runs_bf16_kernel), ignore = "needs AVX-512 BF16, which this CPU lacks (nor is the bf16 kernel used here)")]
    fn the_micro_kernel_refuses_short_slices_instead_of_overrunning_them() -> Result<()> {
        // 2 rows × 40 columns of depth 3: 2 pairs a row, and a last panel of 8 columns
        let matrix = Bf16Matrix::new(&random(3 * 40, 1), 3, 40, None)?;
        let operand = matrix.prepare(&random(6, 2), 2, 3);
        let run = |operand: &[u32], panel: usize, output_len: usize| {
            let mut output = vec![MaybeUninit::<f32>::uninit(); output_len];
            // SAFETY: `new` found AVX-512 BF16; the kernel checks the slices itself.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { matrix.micro_kernel::<2>(operand, panel, &mut output) })).is_ok()
        };
        assert!(run(&operand, 1, 2 * 40), "the last panel of both rows, in bounds");
        assert!(!run(&operand, 1, 2 * 40 - 1), "an output one value short");
        assert!(!run(&operand[..3], 0, 2 * 40), "an operand one pair short");
        assert!(!run(&operand, 2, 2 * 40), "a panel past the last");
        Ok(())
    }
}
