//! Matrix products with q8_0, q4_0 or q4_k weights on x86 CPUs with AVX-512 VNNI, our replacement
//! for candle's.
//!
//! Why not candle's q8_0 path: it multiplies 4 activation rows by 16 columns per step and first
//! quantizes activations to q8_K, one scale per 256 values, which costs accuracy. Here activations get
//! one scale per 32 values, like the weights, and a micro-kernel multiplies 6 rows by 32 columns per
//! step, every weight load feeding 6 `vpdpbusd`. Profiled on MMS-300m (perf, 10 s of audio), the
//! matrix products with their activation quantization take about 1.4× less time than candle's.
//!
//! The arithmetic: per 32-value block, `Σ a·w = d_a · d_w · Σ qa·qw` with `qa`, `qw` in -127..=127.
//! `vpdpbusd` wants unsigned × signed bytes, so activations are stored as `qa + 128` and each block's
//! integer sum starts from `-128 · Σ qw` (precomputed per weight block), which cancels the shift.
//! The integer sum is exact; the only rounding is the two 8-bit quantizations and the f32 sums.
//!
//! 4-bit weights (q4_0, q4_k) stay 4-bit in memory and are unpacked to bytes in the kernel. Every
//! 32-value block of theirs is affine, `w = d · q + m` with `q` in 0..=15 (q4_0: `m = -8d`; q4_k:
//! `d` and `m` from the super-block's 6-bit scales and mins), so a block adds `m · Σ a` to the
//! same integer product, with `Σ a` from the quantized activations.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Result, Tensor};

use super::kernels;
use super::tiled::{self, TileKernel, PANEL};

/// Values per quantization block along the inner dimension (q8_0's).
const BLOCK: usize = 32;
/// Bytes of one packed panel block: 32 columns × 32 values.
const PANEL_BLOCK_BYTES: usize = PANEL * BLOCK;

/// A `[columns, depth]` weight matrix (`torch.nn.Linear` layout) packed for the micro-kernel.
#[derive(Debug)]
pub struct Int8Matrix {
    columns: usize,
    depth: usize,
    /// Per (panel, block), 8-bit weights: 8 groups of 4 consecutive values, each as 2 × 16 columns
    /// × 4 bytes, so that one 64-byte load is the `vpdpbusd` operand for 16 columns. 4-bit weights:
    /// the same for groups `2k` (low nibbles) and `2k + 1` (high nibbles) in one byte.
    weights: Vec<u8>,
    /// Per (panel, block): the 32 columns' scales `d`.
    scales: Vec<f32>,
    /// Per (panel, block): `-128 · Σ qw` for the 32 columns.
    offsets: Vec<i32>,
    /// 4-bit weights only, per (panel, block): the 32 columns' block offsets `m`.
    minimums: Option<Vec<f32>>,
}

/// One 32-value block of one column as stored: `w = scale · q + minimum`.
struct WeightBlock {
    scale: f32,
    minimum: f32,
    values: [i8; BLOCK],
}

impl Int8Matrix {
    /// Whether this CPU runs the kernel.
    pub fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni")
    }

    /// Whether a matrix of this type and shape can be packed: `[columns, depth]` of whole 32-column
    /// panels, and a depth of whole blocks of its type (32 values for q8_0 and q4_0, 256 for q4_k,
    /// whose super-blocks the unpacking walks).
    pub fn fits(dtype: GgmlDType, dims: &[usize]) -> bool {
        matches!(dtype, GgmlDType::Q8_0 | GgmlDType::Q4_0 | GgmlDType::Q4K)
            && matches!(dims, &[columns, depth] if columns > 0 && columns.is_multiple_of(PANEL)
                && depth > 0 && depth.is_multiple_of(dtype.block_size()) && depth.is_multiple_of(BLOCK))
    }

    /// Whether `tensor` is a q8_0, q4_0 or q4_k matrix that this CPU can run through the kernel.
    pub fn takes(tensor: &QTensor) -> bool {
        Self::fits(tensor.dtype(), tensor.shape().dims()) && Self::available()
    }

    /// `[columns, depth]`, as the weight of `torch.nn.Linear`.
    pub fn shape(&self) -> [usize; 2] {
        [self.columns, self.depth]
    }

    /// Packs a q8_0, q4_0 or q4_k tensor as stored in GGUF, without requantizing: the same integers,
    /// scales and offsets. Refuses what [`Int8Matrix::takes`] refuses, the CPU check included: the
    /// kernel's `unsafe` calls rely on every packed matrix having passed it.
    pub fn from_gguf(tensor: &QTensor) -> Result<Self> {
        if !Self::takes(tensor) {
            candle_core::bail!(
                "the int8 kernel takes q8_0, q4_0 and q4_k matrices of whole 32-column panels and whole blocks on AVX-512 VNNI CPUs, not a {:?} {:?}",
                tensor.dtype(),
                tensor.shape()
            )
        }
        let (columns, depth) = tensor.shape().dims2()?;
        let data = tensor.data()?;
        let f16_at = |bytes: &[u8], at: usize| half::f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32();
        Ok(match tensor.dtype() {
            GgmlDType::Q8_0 => {
                // f16 scale, then 32 signed bytes; blocks row after row
                let row_bytes = depth / BLOCK * 34;
                Self::pack(columns, depth, false, |column, block| {
                    let bytes = &data[column * row_bytes + block * 34..][..34];
                    WeightBlock { scale: f16_at(bytes, 0), minimum: 0.0, values: std::array::from_fn(|i| bytes[2 + i] as i8) }
                })
            }
            GgmlDType::Q4_0 => {
                // f16 scale, then 16 bytes: values 0..16 in the low nibbles, 16..32 in the high ones, each q - 8
                let row_bytes = depth / BLOCK * 18;
                Self::pack(columns, depth, true, |column, block| {
                    let bytes = &data[column * row_bytes + block * 18..][..18];
                    let scale = f16_at(bytes, 0);
                    WeightBlock { scale, minimum: -8.0 * scale, values: std::array::from_fn(|i| (bytes[2 + i % 16] >> (i / 16 * 4) & 15) as i8) }
                })
            }
            _ => {
                // super-blocks of 256: f16 d and dmin, 12 bytes of 6-bit scales and mins for the
                // eight 32-value blocks, then 128 bytes: blocks 2k and 2k + 1 in the low and high
                // nibbles of bytes 32k..32k + 32
                let row_bytes = depth / 256 * 144;
                Self::pack(columns, depth, true, |column, block| {
                    let bytes = &data[column * row_bytes + block / 8 * 144..][..144];
                    let (j, scales) = (block % 8, &bytes[4..16]);
                    let (scale, minimum) = if j < 4 {
                        (scales[j] & 63, scales[j + 4] & 63)
                    } else {
                        ((scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4, (scales[j + 4] >> 4) | (scales[j] >> 6) << 4)
                    };
                    let nibbles = &bytes[16 + j / 2 * 32..][..32];
                    WeightBlock {
                        scale: f16_at(bytes, 0) * scale as f32,
                        minimum: -f16_at(bytes, 2) * minimum as f32,
                        values: std::array::from_fn(|i| (nibbles[i] >> (j % 2 * 4) & 15) as i8),
                    }
                })
            }
        })
    }

    fn pack(columns: usize, depth: usize, nibbles: bool, block_of: impl Fn(usize, usize) -> WeightBlock) -> Self {
        let blocks = depth / BLOCK;
        let panel_blocks = columns / PANEL * blocks;
        let block_bytes = if nibbles { PANEL_BLOCK_BYTES / 2 } else { PANEL_BLOCK_BYTES };
        let mut weights = vec![0u8; panel_blocks * block_bytes];
        let mut scales = vec![0f32; panel_blocks * PANEL];
        let mut offsets = vec![0i32; panel_blocks * PANEL];
        let mut minimums = vec![0f32; if nibbles { panel_blocks * PANEL } else { 0 }];
        for column in 0..columns {
            let (panel, lane) = (column / PANEL, column % PANEL);
            let (half, lane_in_half) = (lane / 16, lane % 16);
            for block in 0..blocks {
                let WeightBlock { scale, minimum, values } = block_of(column, block);
                let index = panel * blocks + block;
                scales[index * PANEL + lane] = scale;
                offsets[index * PANEL + lane] = -128 * values.iter().map(|&v| v as i32).sum::<i32>();
                if let Some(slot) = minimums.get_mut(index * PANEL + lane) {
                    *slot = minimum;
                }
                let packed = &mut weights[index * block_bytes..][..block_bytes];
                for (group, four) in values.chunks_exact(4).enumerate() {
                    // 4-bit: groups 2k and 2k + 1 share the bytes of slot k, in low and high nibbles
                    let (slot, shift) = if nibbles { (group / 2, group % 2 * 4) } else { (group, 0) };
                    let at = ((slot * 2 + half) * 16 + lane_in_half) * 4;
                    for (byte, &value) in packed[at..at + 4].iter_mut().zip(four) {
                        *byte |= (value as u8) << shift;
                    }
                }
            }
        }
        Self { columns, depth, weights, scales, offsets, minimums: nibbles.then_some(minimums) }
    }

    /// `x Wᵀ + bias` for `x` of shape `[..., depth]`, as `torch.nn.Linear`.
    pub fn forward(&self, xs: &Tensor, bias: &[f32]) -> Result<Tensor> {
        forward_side_by_side(&[(self, bias)], xs)
    }

    /// `gelu(x Wᵀ + bias)`, exact GELU, applied to each tile while it is in registers and L1: a
    /// separate pass over the 4096-wide feed-forward activations was memory-bound.
    pub fn forward_gelu(&self, xs: &Tensor, bias: &[f32]) -> Result<Tensor> {
        product(&[(self, bias)], xs, true)
    }

    /// `ROWS` activation rows × one 32-column panel, over the whole depth; `NIBBLES` for 4-bit weights.
    ///
    /// # Safety
    /// The CPU has AVX-512 VNNI. Everything else is checked here, once per tile, and panics if
    /// wrong: the tile's slices hold `ROWS` rows (block sums too where `NIBBLES`), `NIBBLES` is
    /// this matrix's packing, and the panel is one of its own.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn micro_kernel<const ROWS: usize, const NIBBLES: bool>(&self, tile: MicroTile<'_>) {
        let blocks = self.depth / BLOCK;
        // these checks bound every unchecked read in the loop below
        assert_eq!(NIBBLES, self.minimums.is_some(), "the kernel for this matrix's packing");
        let activations = &tile.activations[..ROWS * self.depth];
        let activation_scales = &tile.activation_scales[..ROWS * blocks];
        let activation_sums = &tile.activation_sums[..if NIBBLES { ROWS * blocks } else { 0 }];
        let panel_blocks = tile.panel * blocks..(tile.panel + 1) * blocks;
        let block_bytes = if NIBBLES { PANEL_BLOCK_BYTES / 2 } else { PANEL_BLOCK_BYTES };
        let weights = &self.weights[panel_blocks.start * block_bytes..panel_blocks.end * block_bytes];
        let scales = &self.scales[panel_blocks.start * PANEL..panel_blocks.end * PANEL];
        let offsets = &self.offsets[panel_blocks.start * PANEL..panel_blocks.end * PANEL];
        let minimums = self.minimums.as_deref().map_or(&[][..], |minimums| &minimums[panel_blocks.start * PANEL..panel_blocks.end * PANEL]);
        let panel_bias = &tile.bias[tile.panel * PANEL..][..PANEL];
        // SAFETY: `panel_bias` holds 32 values.
        let bias = unsafe { [_mm512_loadu_ps(panel_bias.as_ptr()), _mm512_loadu_ps(panel_bias.as_ptr().add(16))] };
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
                        let four = activations.as_ptr().add(row * self.depth + block * BLOCK + group * 4);
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
                    // SAFETY: `row * blocks + block < ROWS * blocks`, the length of `activation_sums` here.
                    let activation_sum = _mm512_set1_ps(unsafe { *activation_sums.get_unchecked(row * blocks + block) });
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
                kernels::gelu_in_place(unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) });
            }
        }
    }
}

/// What one micro-kernel call reads and writes, starting at its first row.
struct MicroTile<'a> {
    activations: &'a [u8],
    activation_scales: &'a [f32],
    /// 4-bit weights only (empty for 8-bit ones): per row and block, the block's sum as quantized,
    /// `scale · Σ q`.
    activation_sums: &'a [f32],
    /// Starts at this matrix's first column; rows are `output_stride` apart.
    output: &'a mut [MaybeUninit<f32>],
    output_stride: usize,
    panel: usize,
    bias: &'a [f32],
    gelu: bool,
}

/// `x W₁ᵀ + b₁`, `x W₂ᵀ + b₂`, ... side by side in each output row, for matrices of one depth and
/// `x` of shape `[..., depth]`: the activations are quantized once for all of them (attention's
/// query, key and value projections read the same input).
pub fn forward_side_by_side(parts: &[(&Int8Matrix, &[f32])], xs: &Tensor) -> Result<Tensor> {
    product(parts, xs, false)
}

/// [`forward_side_by_side`], with exact GELU applied to the outputs where `gelu`.
fn product(parts: &[(&Int8Matrix, &[f32])], xs: &Tensor, gelu: bool) -> Result<Tensor> {
    let depth = parts.first().map_or(0, |(matrix, _)| matrix.depth);
    let mut dims = xs.dims().to_vec();
    if dims.last() != Some(&depth) || parts.iter().any(|(matrix, bias)| matrix.depth != depth || bias.len() != matrix.columns) {
        let shapes = parts.iter().map(|(matrix, bias)| (matrix.shape(), bias.len())).collect::<Vec<_>>();
        candle_core::bail!("int8 linear: input {dims:?} for matrices and biases {shapes:?}")
    }
    let kernel = Int8Linear { parts, depth, columns: parts.iter().map(|(matrix, _)| matrix.columns).sum(), gelu };
    *dims.last_mut().expect("checked above") = kernel.columns;
    let rows = xs.elem_count() / depth;
    let output = tiled::with_f32_values(xs, |input| Ok(tiled::matmul(&kernel, input, depth, rows)))?;
    Tensor::from_vec(output, dims, xs.device())
}

/// Quantizes rows block by block into `q + 128` bytes, one scale per block, `max |x| / 127` (0 for an
/// all-zero block), and where asked the block's quantized sum `scale · Σ q` (only 4-bit weights use
/// it); `q` is `x / scale` rounded to nearest, ties to even.
///
/// Written with intrinsics: the compiler's vectorisation of the per-value conversion to bytes was
/// poor, and this runs on every input of every int8 product (~6 % of a forward pass before).
#[target_feature(enable = "avx512f,avx512bw")]
fn quantize_rows(values: &[f32], quantized: &mut [u8], scales: &mut [f32], mut sums: Option<&mut [f32]>) {
    let shift = _mm_set1_epi8(-128);
    let blocks = values.chunks_exact(BLOCK).zip(quantized.chunks_exact_mut(BLOCK)).zip(scales.iter_mut());
    for (block, ((values, quantized), scale)) in blocks.enumerate() {
        // SAFETY: `values` is a block of 32.
        let halves = unsafe { [_mm512_loadu_ps(values.as_ptr()), _mm512_loadu_ps(values.as_ptr().add(16))] };
        let max = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(halves[0]), _mm512_abs_ps(halves[1])));
        *scale = max / 127.0;
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
            sums[block] = *scale * _mm512_reduce_add_epi32(total) as f32;
        }
    }
}

/// Matrices of one depth whose outputs lie side by side; a panel index counts across all of them.
struct Int8Linear<'a> {
    parts: &'a [(&'a Int8Matrix, &'a [f32])],
    depth: usize,
    columns: usize,
    gelu: bool,
}

/// A task's activations as the kernel reads them: per row `depth` bytes `q + 128` and per block its
/// scale, and the blocks' quantized sums `scale · Σ q` where a matrix has 4-bit weights.
struct QuantizedRows {
    bytes: Vec<u8>,
    scales: Vec<f32>,
    /// `None` where every matrix has 8-bit weights, which never read the sums: the 4-bit kernel is
    /// only called with `Some` (see `tile`).
    sums: Option<Vec<f32>>,
}

// SAFETY: an `Int8Matrix` exists only where `available()` held (see `from_gguf`).
unsafe impl TileKernel for Int8Linear<'_> {
    type Operand = QuantizedRows;

    fn columns(&self) -> usize {
        self.columns
    }

    fn prepare(&self, input: &[f32], rows: usize, row_stride: usize) -> QuantizedRows {
        let (depth, blocks) = (self.depth, self.depth / BLOCK);
        let mut bytes = vec![0u8; rows * depth];
        let mut scales = vec![0f32; rows * blocks];
        // the block sums serve only 4-bit weights' minimums: q8_0 products skip their reductions
        let mut sums = self.parts.iter().any(|(matrix, _)| matrix.minimums.is_some()).then(|| vec![0f32; rows * blocks]);
        let per_row = bytes.chunks_exact_mut(depth).zip(scales.chunks_exact_mut(blocks));
        for (row, (bytes, scales)) in per_row.enumerate() {
            let sums = sums.as_mut().map(|sums| &mut sums[row * blocks..][..blocks]);
            // SAFETY: the trait's contract: AVX-512 is there.
            unsafe { quantize_rows(&input[row * row_stride..][..depth], bytes, scales, sums) };
        }
        QuantizedRows { bytes, scales, sums }
    }

    unsafe fn tile<const ROWS: usize>(&self, operand: &QuantizedRows, first_row: usize, panel: usize, output: &mut [MaybeUninit<f32>]) {
        let blocks = self.depth / BLOCK;
        let (mut panel, mut first_column) = (panel, 0);
        for (matrix, bias) in self.parts {
            let panels = matrix.columns / PANEL;
            if panel < panels {
                let mut tile = MicroTile {
                    activations: &operand.bytes[first_row * self.depth..],
                    activation_scales: &operand.scales[first_row * blocks..],
                    activation_sums: &[],
                    output: &mut output[first_column..],
                    output_stride: self.columns,
                    panel,
                    bias,
                    gelu: self.gelu,
                };
                // SAFETY: the trait's contract: AVX-512 VNNI is there (the kernel checks the rest).
                return unsafe {
                    match (&matrix.minimums, &operand.sums) {
                        (None, _) => matrix.micro_kernel::<ROWS, false>(tile),
                        (Some(_), Some(sums)) => {
                            tile.activation_sums = &sums[first_row * blocks..];
                            matrix.micro_kernel::<ROWS, true>(tile)
                        }
                        (Some(_), None) => unreachable!("`prepare` sums the blocks whenever a matrix has 4-bit weights"),
                    }
                };
            }
            panel -= panels;
            first_column += matrix.columns;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, D};

    fn random(shape: (usize, usize), seed: u64) -> Result<Tensor> {
        // a fixed LCG: the test must not depend on an RNG crate's stream
        let mut state = seed;
        let values = (0..shape.0 * shape.1)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0
            })
            .collect::<Vec<_>>();
        Tensor::from_vec(values, shape, &Device::Cpu)
    }


    /// The kernel's activation quantization, written plainly: scale `max |x| / 127`, `q` rounded to
    /// nearest with ties to even.
    fn quantize_block(values: &[f32]) -> (f32, Vec<i8>) {
        let scale = values.iter().fold(0f32, |max, v| max.max(v.abs())) / 127.0;
        let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        (scale, values.iter().map(|&v| (v * inverse).round_ties_even() as i8).collect())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI, which this CPU lacks (nor is the int8 kernel used here)")]
    fn quantizes_activations_as_the_plain_reference() -> Result<()> {
        // random blocks, an all-zero block, and a block of exact ties (k + 0.5 after scaling)
        let mut values = random((6, BLOCK), 3)?.flatten_all()?.to_vec1::<f32>()?;
        values.extend([0.0; BLOCK]);
        values.extend((0..BLOCK).map(|i| if i == 0 { 127.0 } else { (i as f32 - 16.0) + 0.5 }));
        let mut quantized = vec![0u8; values.len()];
        let mut scales = vec![0f32; values.len() / BLOCK];
        let mut sums = vec![0f32; values.len() / BLOCK];
        assert!(Int8Matrix::available(), "quantize_rows needs AVX-512");
        // SAFETY: checked just above.
        unsafe { quantize_rows(&values, &mut quantized, &mut scales, Some(&mut sums)) };
        for (block, values) in values.chunks_exact(BLOCK).enumerate() {
            let (scale, q) = quantize_block(values);
            assert_eq!(scales[block], scale, "block {block}");
            assert_eq!(sums[block], scale * q.iter().map(|&q| q as i32).sum::<i32>() as f32, "block {block}");
            let ours = quantized[block * BLOCK..][..BLOCK].iter().map(|&byte| (byte ^ 0x80) as i8).collect::<Vec<_>>();
            assert_eq!(ours, q, "block {block}");
        }
        Ok(())
    }

    /// The exact value the kernel computes: both operands quantized, products summed in f64.
    fn reference(input: &Tensor, weights: &QTensor, bias: &[f32]) -> Result<Tensor> {
        let (rows, depth) = input.dims2()?;
        let input = input.to_vec2::<f32>()?;
        let weights = weights.dequantize(&Device::Cpu)?.to_vec2::<f32>()?;
        let mut output = Vec::new();
        for row in &input {
            let mut quantized_row = vec![0f64; depth];
            for (block, values) in row.chunks_exact(BLOCK).enumerate() {
                let (scale, q) = quantize_block(values);
                for (i, &q) in q.iter().enumerate() {
                    quantized_row[block * BLOCK + i] = q as f64 * scale as f64;
                }
            }
            for (column, w) in weights.iter().enumerate() {
                let dot: f64 = quantized_row.iter().zip(w).map(|(a, &w)| a * w as f64).sum();
                output.push((dot + bias[column] as f64) as f32);
            }
        }
        Tensor::from_vec(output, (rows, weights.len()), &Device::Cpu)
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI, which this CPU lacks (nor is the int8 kernel used here)")]
    fn matches_the_quantized_product_for_every_row_count() -> Result<()> {
        // each weight type, 1..=2 tasks plus every micro-kernel tail (rows mod 6), two panels, several
        // blocks (a q4_k super-block is 256 values); the bias moves the weights off zero mean, so
        // q4's block minimums matter
        for (dtype, rounding) in [(GgmlDType::Q8_0, 0.02), (GgmlDType::Q4_0, 0.15), (GgmlDType::Q4K, 0.1)] {
            for rows in [1, 5, 6, 7, 47, 48, 53, 100] {
                let weights = ((random((64, 512), 7)? + 0.3)? * 0.05)?;
                let quantized = QTensor::quantize(&weights, dtype)?;
                let matrix = Int8Matrix::from_gguf(&quantized)?;
                let input = random((rows, 512), rows as u64)?;
                let bias = (0..64).map(|i| i as f32 * 0.01).collect::<Vec<_>>();
                let ours = matrix.forward(&input, &bias)?;
                let exact = reference(&input, &quantized, &bias)?;
                let error = (&ours - &exact)?.abs()?.max(D::Minus1)?.max(0)?.to_scalar::<f32>()?;
                assert!(error < 1e-5, "{dtype:?}, {rows} rows: largest difference {error}");
                // and close to the float product: only the rounding of both sides
                let float = input.matmul(&weights.t()?)?.broadcast_add(&Tensor::new(bias.as_slice(), &Device::Cpu)?)?;
                let relative = ((&ours - &float)?.sqr()?.sum_all()?.sqrt()? / float.sqr()?.sum_all()?.sqrt()?)?.to_scalar::<f32>()?;
                assert!(relative < rounding, "{dtype:?}, {rows} rows: relative error {relative}");
            }
        }
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI, which this CPU lacks (nor is the int8 kernel used here)")]
    fn side_by_side_is_the_separate_products_concatenated() -> Result<()> {
        let pack = |columns, seed| Int8Matrix::from_gguf(&QTensor::quantize(&random((columns, 64), seed)?, GgmlDType::Q8_0)?);
        let (a, b, c) = (pack(32, 11)?, pack(96, 12)?, pack(64, 13)?);
        let biases = [32, 96, 64].map(|columns| (0..columns).map(|i| i as f32 * 0.1).collect::<Vec<_>>());
        // 2 × 7 rows: a leading dimension and a micro-tile tail
        let input = random((14, 64), 5)?.reshape((2, 7, 64))?;
        let side_by_side = forward_side_by_side(&[(&a, &biases[0]), (&b, &biases[1]), (&c, &biases[2])], &input)?;
        let separate = [(&a, &biases[0]), (&b, &biases[1]), (&c, &biases[2])]
            .map(|(matrix, bias)| matrix.forward(&input, bias))
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        assert_eq!(side_by_side.dims(), &[2, 7, 192]);
        let separate = Tensor::cat(&separate, D::Minus1)?;
        assert_eq!(side_by_side.flatten_all()?.to_vec1::<f32>()?, separate.flatten_all()?.to_vec1::<f32>()?);
        assert!(forward_side_by_side(&[(&a, &biases[0]), (&b, &biases[0])], &input).is_err(), "32 biases for 96 columns");
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI, which this CPU lacks (nor is the int8 kernel used here)")]
    fn gelu_in_the_kernel_is_gelu_after_it() -> Result<()> {
        let matrix = Int8Matrix::from_gguf(&QTensor::quantize(&random((64, 96), 21)?, GgmlDType::Q8_0)?)?;
        let bias = (0..64).map(|i| i as f32 * -0.02).collect::<Vec<_>>();
        let input = random((13, 96), 22)?;
        let fused = matrix.forward_gelu(&input, &bias)?.flatten_all()?.to_vec1::<f32>()?;
        let after = kernels::gelu_erf(&matrix.forward(&input, &bias)?)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(fused, after);
        assert!(fused.iter().any(|&v| v < 0.0) && fused.iter().any(|&v| v > 1.0), "GELU's curved part and its linear part are both hit");
        Ok(())
    }

    #[test]
    fn rejects_what_it_cannot_pack() -> Result<()> {
        let q8 = |shape| QTensor::quantize(&random(shape, 1)?, GgmlDType::Q8_0);
        assert!(Int8Matrix::from_gguf(&q8((48, 64))?).is_err(), "48 columns is not whole panels");
        let q5 = QTensor::quantize(&random((32, 256), 1)?, GgmlDType::Q5K)?;
        assert!(Int8Matrix::from_gguf(&q5).is_err(), "q5_k is none of the types it takes");
        let fitting = q8((32, 64))?;
        assert_eq!(Int8Matrix::from_gguf(&fitting).is_ok(), Int8Matrix::available(), "packs exactly where it can run");
        Ok(())
    }

    #[test]
    fn fits_only_whole_panels_of_whole_blocks_of_each_type() {
        use GgmlDType::{Q4_0, Q4K, Q5K, Q8_0, F16};
        for (dtype, dims, fits) in [
            (Q8_0, &[32, 64][..], true),
            (Q4_0, &[64, 32][..], true),
            (Q4K, &[32, 512][..], true),
            // q4_k unpacks whole super-blocks of 256: a depth of 32-blocks alone packed no weights
            (Q4K, &[32, 64][..], false),
            (Q4K, &[32, 288][..], false),
            (Q8_0, &[32, 40][..], false),
            (Q4_0, &[32, 48][..], false),
            (Q8_0, &[48, 64][..], false),
            (Q8_0, &[0, 64][..], false),
            (Q8_0, &[32, 0][..], false),
            (Q8_0, &[2, 32, 64][..], false),
            (Q5K, &[32, 256][..], false),
            (F16, &[32, 64][..], false),
        ] {
            assert_eq!(Int8Matrix::fits(dtype, dims), fits, "{dtype:?} {dims:?}");
        }
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI, which this CPU lacks (nor is the int8 kernel used here)")]
    fn four_bit_weights_without_block_sums_or_short_slices_panic_instead_of_overrunning() -> Result<()> {
        let weights = random((32, 64), 31)?;
        let (q8, q4) = (Int8Matrix::from_gguf(&QTensor::quantize(&weights, GgmlDType::Q8_0)?)?, Int8Matrix::from_gguf(&QTensor::quantize(&weights, GgmlDType::Q4_0)?)?);
        let bias = [0f32; 32];
        let input = random((2, 64), 32)?.flatten_all()?.to_vec1::<f32>()?;
        let linear = |matrix| Int8Linear { parts: std::slice::from_ref(matrix), depth: 64, columns: 32, gelu: false };
        let run = |linear: &Int8Linear, operand: &QuantizedRows, output_len: usize| {
            let mut output = vec![MaybeUninit::<f32>::uninit(); output_len];
            // SAFETY: `from_gguf` found AVX-512 VNNI; the kernel checks the rest itself.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { linear.tile::<2>(operand, 0, 0, &mut output) })).is_ok()
        };
        let (parts_q8, parts_q4) = ([(&q8, &bias[..])], [(&q4, &bias[..])]);
        let (linear_q8, linear_q4) = (linear(&parts_q8[0]), linear(&parts_q4[0]));
        let (without_sums, with_sums) = (linear_q8.prepare(&input, 2, 64), linear_q4.prepare(&input, 2, 64));
        assert!(without_sums.sums.is_none() && with_sums.sums.is_some(), "block sums exactly where 4-bit weights read them");
        assert!(run(&linear_q8, &without_sums, 64) && run(&linear_q4, &with_sums, 64), "both kernels, in bounds");
        assert!(!run(&linear_q4, &without_sums, 64), "4-bit weights without block sums");
        assert!(!run(&linear_q8, &without_sums, 63), "an output one value short");
        let one_row = linear_q4.prepare(&input, 1, 64);
        assert!(!run(&linear_q4, &one_row, 64), "activations, scales and sums of one row for a tile of two");
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI, which this CPU lacks (nor is the int8 kernel used here)")]
    fn eight_and_four_bit_weights_side_by_side_are_their_separate_products() -> Result<()> {
        // the 4-bit part needs block sums that the 8-bit part ignores: quantized once, for both
        let pack = |dtype, seed| Int8Matrix::from_gguf(&QTensor::quantize(&random((32, 256), seed)?, dtype)?);
        let (q8, q4k) = (pack(GgmlDType::Q8_0, 41)?, pack(GgmlDType::Q4K, 42)?);
        let bias = (0..32).map(|i| i as f32 * 0.1).collect::<Vec<_>>();
        let input = random((9, 256), 43)?;
        let side_by_side = forward_side_by_side(&[(&q8, &bias), (&q4k, &bias)], &input)?;
        let separate = Tensor::cat(&[q8.forward(&input, &bias)?, q4k.forward(&input, &bias)?], D::Minus1)?;
        assert_eq!(side_by_side.flatten_all()?.to_vec1::<f32>()?, separate.flatten_all()?.to_vec1::<f32>()?);
        Ok(())
    }
}
