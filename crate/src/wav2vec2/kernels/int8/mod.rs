//! Matrix products with q8_0, q4_0 or q4_k weights, our replacement for candle's: the packing and the
//! tiling are shared, the micro-kernels are per target (`avx512.rs`: x86 AVX-512 VNNI; `wasm.rs`:
//! WebAssembly SIMD).
//!
//! Why not candle's q8_0 path: it multiplies 4 activation rows by 16 columns per step and first
//! quantizes activations to q8_K, one scale per 256 values, which costs accuracy; in wasm it is slower
//! than candle's own f32 product (a browser profile of MMS-300m put most of the time in its
//! `vec_dot`). Here activations get one scale per 32 values, like the weights, and a micro-kernel
//! multiplies several rows by a 32-column panel per step, every weight load feeding every row.
//!
//! The arithmetic: per 32-value block, `Σ a·w = d_a · d_w · Σ qa·qw`, `qw` in -127..=127 and `qa` in
//! `-LIMIT..=LIMIT` (the backend's). VNNI's 8-bit dot product wants one operand unsigned, so a
//! backend either stores activations as `qa + OFFSET`, and each block's integer sum then starts from
//! `-OFFSET · Σ qw` (precomputed per weight block), which cancels the shift (AVX-512); or stores
//! 8-bit weights as `qw + 128` (`UNSIGNED_WEIGHTS`, wasm's relaxed builds), and each block's integer
//! sum then starts from `-128 · Σ qa` (the activations' block sums, which the quantization gives),
//! which costs no memory per block. The integer sum is exact; the only rounding is the two
//! quantizations and the f32 sums.
//!
//! 4-bit weights (q4_0, q4_k) stay 4-bit in memory and are unpacked to bytes in the kernel. Every
//! 32-value block of theirs is affine, `w = d · q + m` with `q` in 0..=15 (q4_0: `m = -8d`; q4_k:
//! `d` and `m` from the super-block's 6-bit scales and mins), so a block adds `m · Σ a` to the
//! same integer product, with `Σ a` from the quantized activations. q4_k's `d` and `m` stay in its
//! own compact form, 6-bit codes times a super-block factor, and are unpacked to floats per panel
//! ([`BlockScales`]): as floats they took a third of a q4_k model's memory.

use std::mem::MaybeUninit;

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Result, Tensor};

use super::tiled::{self, TileKernel, MICRO_ROWS, PANEL};

pub mod attention;

// The micro-kernel and activation quantization of this target (see `kernels/mod.rs`).
#[cfg(target_arch = "x86_64")]
#[path = "avx512.rs"]
mod backend;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[path = "wasm.rs"]
mod backend;
#[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
#[path = "unavailable.rs"]
mod backend;

/// Values per quantization block along the inner dimension (q8_0's).
const BLOCK: usize = 32;
/// Bytes of one packed panel block: 32 columns × 32 values.
const PANEL_BLOCK_BYTES: usize = PANEL * BLOCK;

/// The bytes of one packed panel block, for 8- or 4-bit weights.
const fn block_bytes(nibbles: bool) -> usize {
    if nibbles {
        PANEL_BLOCK_BYTES / 2
    } else {
        PANEL_BLOCK_BYTES
    }
}

/// A `[columns, depth]` weight matrix (`torch.nn.Linear` layout) packed for the micro-kernel.
#[derive(Debug)]
pub struct Int8Matrix {
    columns: usize,
    depth: usize,
    /// Per (panel, block), 8-bit weights (`q + 128` where the backend has `UNSIGNED_WEIGHTS`): 8
    /// groups of 4 consecutive values, each as 2 × 16 columns × 4 bytes, so that one 64-byte load is the `vpdpbusd` operand for 16 columns, and one 16-byte
    /// load the wasm dot products' operand for 4. 4-bit weights: the same for groups `2k` (low
    /// nibbles) and `2k + 1` (high nibbles) in one byte.
    weights: Vec<u8>,
    /// The blocks' scales `d`, and for 4-bit weights their offsets `m`.
    scales: BlockScales,
    /// Per (panel, block): `-OFFSET · Σ qw` for the 32 columns; empty where the backend's activations
    /// have no offset.
    offsets: Vec<i32>,
}

/// The blocks' scales `d` and, for 4-bit weights, offsets `m` (`w = d · q + m`).
#[derive(Debug)]
enum BlockScales {
    /// Per (panel, block) the 32 columns' `d` (q8_0, q4_0), and for 4-bit weights (q4_0) as many `m`.
    Floats { scales: Vec<f32>, minimums: Option<Vec<f32>> },
    /// q4_k's own form, 96 bytes per (panel, block) instead of 256: per (panel, block) the 32
    /// columns' 6-bit scales, then their 6-bit mins, a byte each; per (panel, super-block of 8
    /// blocks) the 32 columns' super-block `d`, then their `-dmin`. A block's `d` is `d · scale` and
    /// its `m` is `-dmin · min`: the products q4_k's own dequantization makes, so the same floats.
    SuperBlocks { codes: Vec<u8>, factors: Vec<f32> },
}

/// Blocks per q4_k super-block.
const SUPER_BLOCK: usize = 8;

/// One 32-value block of one column as stored.
struct WeightBlock {
    scale: BlockScale,
    values: [i8; BLOCK],
}

enum BlockScale {
    /// `w = d · q + m`
    Float { d: f32, m: f32 },
    /// q4_k's: `w = (d · scale) · q + (-dmin · min)`, with `d` and `dmin` the super-block's
    Coded { d: f32, dmin: f32, scale: u8, min: u8 },
}

impl Int8Matrix {
    /// Whether this CPU runs the kernel.
    pub fn available() -> bool {
        backend::available()
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
                "the int8 kernel takes q8_0, q4_0 and q4_k matrices of whole 32-column panels and whole blocks where the kernel runs ({}), not a {:?} {:?}",
                backend::REQUIRES,
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
                Self::pack(columns, depth, Packing::Bytes, |column, block| {
                    let bytes = &data[column * row_bytes + block * 34..][..34];
                    let scale = BlockScale::Float { d: f16_at(bytes, 0), m: 0.0 };
                    WeightBlock { scale, values: std::array::from_fn(|i| bytes[2 + i] as i8) }
                })
            }
            GgmlDType::Q4_0 => {
                // f16 scale, then 16 bytes: values 0..16 in the low nibbles, 16..32 in the high ones, each q - 8
                let row_bytes = depth / BLOCK * 18;
                Self::pack(columns, depth, Packing::Nibbles, |column, block| {
                    let bytes = &data[column * row_bytes + block * 18..][..18];
                    let d = f16_at(bytes, 0);
                    let scale = BlockScale::Float { d, m: -8.0 * d };
                    WeightBlock { scale, values: std::array::from_fn(|i| (bytes[2 + i % 16] >> (i / 16 * 4) & 15) as i8) }
                })
            }
            _ => {
                // super-blocks of 256: f16 d and dmin, 12 bytes of 6-bit scales and mins for the
                // eight 32-value blocks, then 128 bytes: blocks 2k and 2k + 1 in the low and high
                // nibbles of bytes 32k..32k + 32
                let row_bytes = depth / 256 * 144;
                Self::pack(columns, depth, Packing::SuperBlocks, |column, block| {
                    let bytes = &data[column * row_bytes + block / SUPER_BLOCK * 144..][..144];
                    let (j, scales) = (block % SUPER_BLOCK, &bytes[4..16]);
                    let (scale, min) = if j < 4 {
                        (scales[j] & 63, scales[j + 4] & 63)
                    } else {
                        ((scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4, (scales[j + 4] >> 4) | (scales[j] >> 6) << 4)
                    };
                    let nibbles = &bytes[16 + j / 2 * 32..][..32];
                    WeightBlock {
                        scale: BlockScale::Coded { d: f16_at(bytes, 0), dmin: f16_at(bytes, 2), scale, min },
                        values: std::array::from_fn(|i| (nibbles[i] >> (j % 2 * 4) & 15) as i8),
                    }
                })
            }
        })
    }

    fn pack(columns: usize, depth: usize, packing: Packing, block_of: impl Fn(usize, usize) -> WeightBlock) -> Self {
        let blocks = depth / BLOCK;
        let panel_blocks = columns / PANEL * blocks;
        let nibbles = packing != Packing::Bytes;
        let block_bytes = block_bytes(nibbles);
        let mut weights = vec![0u8; panel_blocks * block_bytes];
        let mut scales = match packing {
            Packing::Bytes => BlockScales::Floats { scales: vec![0.0; panel_blocks * PANEL], minimums: None },
            Packing::Nibbles => BlockScales::Floats { scales: vec![0.0; panel_blocks * PANEL], minimums: Some(vec![0.0; panel_blocks * PANEL]) },
            Packing::SuperBlocks => {
                BlockScales::SuperBlocks { codes: vec![0; panel_blocks * 2 * PANEL], factors: vec![0.0; panel_blocks / SUPER_BLOCK * 2 * PANEL] }
            }
        };
        let mut offsets = vec![0i32; if backend::OFFSET != 0 { panel_blocks * PANEL } else { 0 }];
        for column in 0..columns {
            let (panel, lane) = (column / PANEL, column % PANEL);
            let (half, lane_in_half) = (lane / 16, lane % 16);
            for block in 0..blocks {
                let WeightBlock { scale, values } = block_of(column, block);
                let index = panel * blocks + block;
                match (&mut scales, scale) {
                    (BlockScales::Floats { scales, minimums }, BlockScale::Float { d, m }) => {
                        scales[index * PANEL + lane] = d;
                        if let Some(minimums) = minimums {
                            minimums[index * PANEL + lane] = m;
                        }
                    }
                    (BlockScales::SuperBlocks { codes, factors }, BlockScale::Coded { d, dmin, scale, min }) => {
                        codes[index * 2 * PANEL + lane] = scale;
                        codes[index * 2 * PANEL + PANEL + lane] = min;
                        let super_block = &mut factors[index / SUPER_BLOCK * 2 * PANEL..];
                        super_block[lane] = d;
                        super_block[PANEL + lane] = -dmin;
                    }
                    _ => unreachable!("each packing's blocks come with its kind of scale"),
                }
                if let Some(offset) = offsets.get_mut(index * PANEL + lane) {
                    *offset = -backend::OFFSET * values.iter().map(|&v| v as i32).sum::<i32>();
                }
                let packed = &mut weights[index * block_bytes..][..block_bytes];
                for (group, four) in values.chunks_exact(4).enumerate() {
                    // 4-bit: groups 2k and 2k + 1 share the bytes of slot k, in low and high nibbles
                    let (slot, shift) = if nibbles { (group / 2, group % 2 * 4) } else { (group, 0) };
                    // `q + 128` as a byte is `q`'s byte with its top bit flipped
                    let flip = if !nibbles && backend::UNSIGNED_WEIGHTS { 0x80 } else { 0 };
                    let at = ((slot * 2 + half) * 16 + lane_in_half) * 4;
                    for (byte, &value) in packed[at..at + 4].iter_mut().zip(four) {
                        *byte |= ((value as u8) ^ flip) << shift;
                    }
                }
            }
        }
        Self { columns, depth, weights, scales, offsets }
    }

    /// Whether the weights are 4-bit (two to a byte), with block offsets `m`.
    fn nibbles(&self) -> bool {
        matches!(self.scales, BlockScales::Floats { minimums: Some(_), .. } | BlockScales::SuperBlocks { .. })
    }

    /// For q4_k, `panel`'s block scales `d` then its block offsets `m` as floats, `blocks × 32` each,
    /// into `into`; other types keep theirs as floats and leave it empty.
    fn unpack_panel(&self, panel: usize, into: &mut Vec<f32>) {
        into.clear();
        let BlockScales::SuperBlocks { codes, factors } = &self.scales else { return };
        let blocks = self.depth / BLOCK;
        into.resize(2 * blocks * PANEL, 0.0);
        let (scales, minimums) = into.split_at_mut(blocks * PANEL);
        let codes = codes[panel * blocks * 2 * PANEL..][..blocks * 2 * PANEL].chunks_exact(2 * PANEL);
        let per_block = codes.zip(scales.chunks_exact_mut(PANEL)).zip(minimums.chunks_exact_mut(PANEL));
        for (block, ((codes, scales), minimums)) in per_block.enumerate() {
            let factors = &factors[(panel * blocks + block) / SUPER_BLOCK * 2 * PANEL..][..2 * PANEL];
            let (d, dmin) = factors.split_at(PANEL);
            for (scale, (&code, &d)) in scales.iter_mut().zip(codes[..PANEL].iter().zip(d)) {
                *scale = d * code as f32;
            }
            for (minimum, (&code, &dmin)) in minimums.iter_mut().zip(codes[PANEL..].iter().zip(dmin)) {
                *minimum = dmin * code as f32;
            }
        }
    }

    /// Packs a float `[columns, depth]` weight (`torch.nn.Linear`'s layout), for float layers that run
    /// in int8 where there is no faster float kernel (a quantized model's conv stack in wasm); see
    /// [`Int8Matrix::quantize`].
    pub fn from_float(weight: &Tensor) -> Result<Self> {
        let (columns, depth) = weight.dims2()?;
        Self::quantize(&weight.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1()?, columns, depth)
    }

    /// Packs a row-major float `[columns, depth]` matrix, each 32-value block rounded to 8 bits with
    /// one f32 scale, `max |x| / 127`: q8_0's integers, rounded as the kernel rounds its activations
    /// (vectorised). Attention quantizes its keys and values this way per head in every layer, where
    /// candle's scalar q8_0 rounding showed in a browser profile.
    fn quantize(values: &[f32], columns: usize, depth: usize) -> Result<Self> {
        if values.len() != columns * depth || !Self::fits(GgmlDType::Q8_0, &[columns, depth]) || !Self::available() {
            candle_core::bail!(
                "the int8 kernel packs whole 32-column panels of whole 32-value blocks where it runs ({}), not {} values as [{columns}, {depth}]",
                backend::REQUIRES,
                values.len()
            )
        }
        let blocks = depth / BLOCK;
        let mut quantized = vec![backend::Activation::default(); columns * depth];
        let mut scales = vec![0f32; columns * blocks];
        let per_column = values.chunks_exact(depth).zip(quantized.chunks_exact_mut(depth)).zip(scales.chunks_exact_mut(blocks));
        for ((values, quantized), scales) in per_column {
            // SAFETY: the backend's instructions are there (`available`, checked above).
            unsafe { backend::quantize_rows(values, quantized, scales, None) };
        }
        Ok(Self::pack(columns, depth, Packing::Bytes, |column, block| WeightBlock {
            scale: BlockScale::Float { d: scales[column * blocks + block], m: 0.0 },
            // as activations, stored shifted by the backend's offset
            values: std::array::from_fn(|i| (i32::from(quantized[column * depth + block * BLOCK + i]) - backend::OFFSET) as i8),
        }))
    }

    /// The row-major `[rows, columns]` product, bias added, of input rows of `depth` values where row
    /// `i` starts at `input[i * row_stride]`: with `row_stride < depth` the rows overlap, which is how
    /// a strided conv reads its windows straight from time-major input without unfolding it first.
    pub fn matmul(&self, input: &[f32], row_stride: usize, rows: usize, bias: &[f32]) -> Result<Vec<f32>> {
        if bias.len() != self.columns || rows > 0 && (rows - 1) * row_stride + self.depth > input.len() {
            candle_core::bail!("int8 matmul: {rows} rows of {} every {row_stride} from {} values, {} biases for {} columns", self.depth, input.len(), bias.len(), self.columns)
        }
        let parts = [(self, bias)];
        let kernel = Int8Linear { parts: &parts, depth: self.depth, columns: self.columns, gelu: false };
        Ok(tiled::matmul(&kernel, input, row_stride, rows))
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
}

/// How [`Int8Matrix::pack`] stores a type's weights and scales.
#[derive(Clone, Copy, PartialEq)]
enum Packing {
    /// q8_0: bytes, float scales
    Bytes,
    /// q4_0: nibbles, float scales and offsets
    Nibbles,
    /// q4_k: nibbles, scales and offsets in [`BlockScales::SuperBlocks`]
    SuperBlocks,
}

/// What one micro-kernel call reads and writes, starting at its first row.
struct MicroTile<'a> {
    activations: &'a [backend::Activation],
    activation_scales: &'a [f32],
    /// What affine weights add from the activations' block sums `Σ q`, per row and block, where the
    /// kernel reads them ([`SumTerms`]; else empty).
    activation_sum_terms: SumTerms<&'a [f32], &'a [i32]>,
    /// The panel's block scales and offsets as [`Int8Matrix::unpack_panel`] gave them (q4_k's).
    unpacked: &'a [f32],
    /// Starts at this matrix's first column; rows are `output_stride` apart.
    output: &'a mut [MaybeUninit<f32>],
    output_stride: usize,
    panel: usize,
    bias: &'a [f32],
    gelu: bool,
}

/// What one micro-kernel call of `ROWS` rows reads, cut to exactly that: per row `depth` activations
/// and `blocks` scales (and sum terms where [`SumTerms::read_by`] says), per block 32 weight scales, offsets (where the
/// backend has them) and minimums (where `NIBBLES`) and `block_bytes(NIBBLES)` weight bytes, and 32
/// biases. The backends' unchecked reads stay within these.
#[derive(Clone, Copy)]
struct TileSlices<'a> {
    blocks: usize,
    // the wasm kernel steps through its interleaved rows by block instead
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    depth: usize,
    activations: &'a [backend::Activation],
    activation_scales: &'a [f32],
    activation_sum_terms: SumTerms<&'a [f32], &'a [i32]>,
    weights: &'a [u8],
    scales: &'a [f32],
    // only the AVX-512 kernel shifts its activations, so only it has offsets to read
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    offsets: &'a [i32],
    minimums: &'a [f32],
    bias: &'a [f32],
}

impl<'a> TileSlices<'a> {
    /// Panics where the tile does not hold `ROWS` rows, `NIBBLES` is not this matrix's packing, or
    /// the panel is not one of its own: the checks that make a micro-kernel's reads safe.
    fn of<const ROWS: usize, const NIBBLES: bool>(matrix: &'a Int8Matrix, tile: &MicroTile<'a>) -> Self {
        let (depth, blocks) = (matrix.depth, matrix.depth / BLOCK);
        assert_eq!(NIBBLES, matrix.nibbles(), "the kernel for this matrix's packing");
        let panel = tile.panel * blocks * PANEL..(tile.panel + 1) * blocks * PANEL;
        let block_bytes = block_bytes(NIBBLES);
        let (scales, minimums) = match &matrix.scales {
            BlockScales::Floats { scales, minimums } => (&scales[panel.clone()], minimums.as_deref().map_or(&[][..], |minimums| &minimums[panel.clone()])),
            // this panel's, unpacked: the length is checked here, that it is this panel's by the caller
            BlockScales::SuperBlocks { .. } => {
                assert_eq!(tile.unpacked.len(), 2 * blocks * PANEL, "the panel's unpacked scales");
                tile.unpacked.split_at(blocks * PANEL)
            }
        };
        Self {
            blocks,
            depth,
            activations: &tile.activations[..ROWS * depth],
            activation_scales: &tile.activation_scales[..ROWS * blocks],
            activation_sum_terms: SumTerms {
                scaled: &tile.activation_sum_terms.scaled[..if SumTerms::read_by(NIBBLES).scaled { ROWS * blocks } else { 0 }],
                unsigned_start: &tile.activation_sum_terms.unsigned_start[..if SumTerms::read_by(NIBBLES).unsigned_start { ROWS * blocks } else { 0 }],
            },
            weights: &matrix.weights[tile.panel * blocks * block_bytes..(tile.panel + 1) * blocks * block_bytes],
            scales,
            offsets: if backend::OFFSET != 0 { &matrix.offsets[panel] } else { &[] },
            minimums,
            bias: &tile.bias[tile.panel * PANEL..][..PANEL],
        }
    }
}

/// What affine weights add from the activations' block sums `Σ q` (4-bit weights are affine, and 8-bit
/// ones stored unsigned become so), per row and block, in the form the kernels read: made once per
/// task (`prepare`), not again in every 32-column panel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct SumTerms<Scaled, Start> {
    /// For 4-bit weights: `d_a · Σ q`, which the block's offsets `m` multiply.
    scaled: Scaled,
    /// For 8-bit weights stored as `q + 128` (`UNSIGNED_WEIGHTS`): `-128 · Σ q`, where the block's
    /// integer sum starts.
    unsigned_start: Start,
}

impl SumTerms<bool, bool> {
    /// Which terms the micro-kernel for this packing reads.
    const fn read_by(nibbles: bool) -> Self {
        Self { scaled: nibbles, unsigned_start: !nibbles && backend::UNSIGNED_WEIGHTS }
    }
}

/// Quantized rows reordered so that within each micro-tile (`MICRO_ROWS` rows, fewer in a task's last)
/// the rows take turns by groups of 4 values: group 0 of every row, then group 1, ... A tile still
/// starts at `first_row * depth` and holds `rows * depth` values, only their order within it changes.
fn interleave_tiles(values: &[backend::Activation], rows: usize, depth: usize) -> Vec<backend::Activation> {
    let mut interleaved = Vec::with_capacity(values.len());
    for tile in values.chunks(MICRO_ROWS * depth) {
        let tile_rows = tile.len() / depth;
        for group in (0..depth).step_by(4) {
            for row in 0..tile_rows {
                interleaved.extend_from_slice(&tile[row * depth + group..][..4]);
            }
        }
    }
    debug_assert_eq!(interleaved.len(), rows * depth);
    interleaved
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

/// Matrices of one depth whose outputs lie side by side; a panel index counts across all of them.
struct Int8Linear<'a> {
    parts: &'a [(&'a Int8Matrix, &'a [f32])],
    depth: usize,
    columns: usize,
    gelu: bool,
}

/// A task's activations as the kernel reads them: per row `depth` quantized values as the backend
/// stores them and per block its scale, and the terms of its sums `Σ q` that a matrix reads.
struct QuantizedRows {
    values: Vec<backend::Activation>,
    scales: Vec<f32>,
    /// `None` where no matrix reads them: a kernel that does is only called with `Some` (see `tile`).
    sum_terms: SumTerms<Option<Vec<f32>>, Option<Vec<i32>>>,
}

// SAFETY: an `Int8Matrix` exists only where `available()` held (see `from_gguf`).
unsafe impl TileKernel for Int8Linear<'_> {
    type Operand = QuantizedRows;
    /// q4_k's block scales and offsets of the panel (see [`Int8Matrix::unpack_panel`]).
    type Unpacked = Vec<f32>;

    fn columns(&self) -> usize {
        self.columns
    }

    fn prepare(&self, input: &[f32], rows: usize, row_stride: usize) -> QuantizedRows {
        let (depth, blocks) = (self.depth, self.depth / BLOCK);
        let mut values = vec![backend::Activation::default(); rows * depth];
        let mut scales = vec![0f32; rows * blocks];
        // the block sums serve only affine weights: other products skip their reductions
        let read = self.parts.iter().fold(SumTerms::default(), |read, (matrix, _)| {
            let by_matrix = SumTerms::read_by(matrix.nibbles());
            SumTerms { scaled: read.scaled || by_matrix.scaled, unsigned_start: read.unsigned_start || by_matrix.unsigned_start }
        });
        let mut sums = (read.scaled || read.unsigned_start).then(|| vec![0i32; rows * blocks]);
        let per_row = values.chunks_exact_mut(depth).zip(scales.chunks_exact_mut(blocks));
        for (row, (quantized, scales)) in per_row.enumerate() {
            let sums = sums.as_mut().map(|sums| &mut sums[row * blocks..][..blocks]);
            // SAFETY: the trait's contract: the backend's instructions are there.
            unsafe { backend::quantize_rows(&input[row * row_stride..][..depth], quantized, scales, sums) };
        }
        if backend::INTERLEAVED_ROWS {
            values = interleave_tiles(&values, rows, depth);
        }
        let sums = sums.unwrap_or_default();
        let sum_terms = SumTerms {
            scaled: read.scaled.then(|| sums.iter().zip(&scales).map(|(&sum, &scale)| scale * sum as f32).collect()),
            unsigned_start: read.unsigned_start.then(|| sums.iter().map(|&sum| -128 * sum).collect()),
        };
        QuantizedRows { values, scales, sum_terms }
    }

    fn unpack_panel(&self, panel: usize, into: &mut Vec<f32>) {
        let (matrix, _, panel, _) = self.part_of(panel);
        matrix.unpack_panel(panel, into);
    }

    unsafe fn tile<const ROWS: usize>(&self, operand: &QuantizedRows, unpacked: &Vec<f32>, first_row: usize, panel: usize, output: &mut [MaybeUninit<f32>]) {
        let blocks = self.depth / BLOCK;
        let (matrix, bias, panel, first_column) = self.part_of(panel);
        let nibbles = matrix.nibbles();
        let read = SumTerms::read_by(nibbles);
        let tile = MicroTile {
            activations: &operand.values[first_row * self.depth..],
            activation_scales: &operand.scales[first_row * blocks..],
            activation_sum_terms: SumTerms {
                scaled: from_row(&operand.sum_terms.scaled, read.scaled, first_row * blocks),
                unsigned_start: from_row(&operand.sum_terms.unsigned_start, read.unsigned_start, first_row * blocks),
            },
            unpacked,
            output: &mut output[first_column..],
            output_stride: self.columns,
            panel,
            bias,
            gelu: self.gelu,
        };
        // SAFETY: the trait's contract: the backend's instructions are there (the kernel checks the rest).
        unsafe {
            if nibbles {
                backend::micro_kernel::<ROWS, true>(matrix, tile)
            } else {
                backend::micro_kernel::<ROWS, false>(matrix, tile)
            }
        }
    }
}

/// A task's sum terms from the tile's first row (`at`, counted in blocks) on; empty where not read.
fn from_row<T>(terms: &Option<Vec<T>>, read: bool, at: usize) -> &[T] {
    match terms {
        Some(terms) => &terms[at..],
        None if read => unreachable!("`prepare` makes the sum terms whenever a kernel reads them"),
        None => &[],
    }
}

impl Int8Linear<'_> {
    /// The matrix that `panel` (counted across all of them) belongs to, its bias, the panel's index
    /// in it and the matrix's first output column.
    fn part_of(&self, mut panel: usize) -> (&Int8Matrix, &[f32], usize, usize) {
        let mut first_column = 0;
        for &(matrix, bias) in self.parts {
            let panels = matrix.columns / PANEL;
            if panel < panels {
                return (matrix, bias, panel, first_column);
            }
            panel -= panels;
            first_column += matrix.columns;
        }
        panic!("panel past the last of {} columns", self.columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, D};
    // In wasm these tests run in Node through wasm-bindgen's test runner (scripts/test-wasm-kernels.sh).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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


    /// The kernel's activation quantization, written plainly: scale `max |x| / LIMIT`, `q` rounded to
    /// nearest with ties to even.
    fn quantize_block(values: &[f32]) -> (f32, Vec<i8>) {
        let scale = values.iter().fold(0f32, |max, v| max.max(v.abs())) / backend::LIMIT;
        let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        (scale, values.iter().map(|&v| (v * inverse).round_ties_even() as i8).collect())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn quantizes_activations_as_the_plain_reference() -> Result<()> {
        // random blocks, an all-zero block, and a block of exact ties (k + 0.5 after scaling)
        let mut values = random((6, BLOCK), 3)?.flatten_all()?.to_vec1::<f32>()?;
        values.extend([0.0; BLOCK]);
        values.extend((0..BLOCK).map(|i| if i == 0 { backend::LIMIT } else { (i as f32 - 16.0) + 0.5 }));
        let mut quantized = vec![backend::Activation::default(); values.len()];
        let mut scales = vec![0f32; values.len() / BLOCK];
        let mut sums = vec![0i32; values.len() / BLOCK];
        assert!(Int8Matrix::available(), "quantize_rows needs the backend's instructions");
        // SAFETY: checked just above.
        unsafe { backend::quantize_rows(&values, &mut quantized, &mut scales, Some(&mut sums)) };
        for (block, values) in values.chunks_exact(BLOCK).enumerate() {
            let (scale, q) = quantize_block(values);
            assert_eq!(scales[block], scale, "block {block}");
            assert_eq!(sums[block], q.iter().map(|&q| q as i32).sum::<i32>(), "block {block}");
            let ours = quantized[block * BLOCK..][..BLOCK].iter().map(|&value| (i32::from(value) - backend::OFFSET) as i8).collect::<Vec<_>>();
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
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
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
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
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

    /// The relaxed-SIMD builds' two ways of multiplying (`wasm.rs`) sum the same integers, so they give
    /// the same bits; on an engine without the exact relaxed dot product both runs widen.
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    #[test]
    fn relaxed_and_widened_products_are_identical() -> Result<()> {
        use std::sync::atomic::Ordering;
        for dtype in [GgmlDType::Q8_0, GgmlDType::Q4_0, GgmlDType::Q4K] {
            let matrix = Int8Matrix::from_gguf(&QTensor::quantize(&((random((64, 512), 31)? + 0.2)? * 0.05)?, dtype)?)?;
            let (input, bias) = (random((11, 512), 32)?, vec![0.5; 64]);
            let ways = [false, true].map(|widen_only| {
                backend::WIDEN_ONLY.store(widen_only, Ordering::Relaxed);
                matrix.forward(&input, &bias).and_then(|output| output.flatten_all()?.to_vec1::<f32>())
            });
            backend::WIDEN_ONLY.store(false, Ordering::Relaxed);
            let [relaxed, widened] = ways;
            assert_eq!(relaxed?, widened?, "{dtype:?}");
        }
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn gelu_in_the_kernel_is_gelu_after_it() -> Result<()> {
        let matrix = Int8Matrix::from_gguf(&QTensor::quantize(&random((64, 96), 21)?, GgmlDType::Q8_0)?)?;
        let bias = (0..64).map(|i| i as f32 * -0.02).collect::<Vec<_>>();
        let input = random((13, 96), 22)?;
        let fused = matrix.forward_gelu(&input, &bias)?.flatten_all()?.to_vec1::<f32>()?;
        let after = super::super::elementwise::gelu_erf(&matrix.forward(&input, &bias)?)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(fused, after);
        assert!(fused.iter().any(|&v| v < 0.0) && fused.iter().any(|&v| v > 1.0), "GELU's curved part and its linear part are both hit");
        Ok(())
    }

    #[test]
    fn interleaved_tiles_take_turns_by_groups_of_four() {
        // two whole micro-tiles and a tail of 3 rows, 3 groups each
        let (rows, depth) = (2 * MICRO_ROWS + 3, 12);
        let values: Vec<backend::Activation> = (0..rows * depth).map(|i| (i % 100) as backend::Activation).collect();
        let interleaved = interleave_tiles(&values, rows, depth);
        assert_eq!(interleaved.len(), values.len());
        for row in 0..rows {
            let (tile, row_in_tile) = (row / MICRO_ROWS, row % MICRO_ROWS);
            let tile_rows = MICRO_ROWS.min(rows - tile * MICRO_ROWS);
            for value in 0..depth {
                let at = tile * MICRO_ROWS * depth + (value / 4 * tile_rows + row_in_tile) * 4 + value % 4;
                assert_eq!(interleaved[at], values[row * depth + value], "row {row}, value {value}");
            }
        }
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn overlapping_rows_are_the_product_of_each_window() -> Result<()> {
        // a conv of kernel 3, stride 2 over 20 frames of 32 channels: windows of 96 values, 64 apart
        let weight = random((32, 96), 51)?;
        let matrix = Int8Matrix::from_float(&weight)?;
        let input = random((20, 32), 52)?.flatten_all()?.to_vec1::<f32>()?;
        let bias = (0..32).map(|i| i as f32 * 0.05).collect::<Vec<_>>();
        let frames = (20 - 3) / 2 + 1;
        let ours = matrix.matmul(&input, 64, frames, &bias)?;
        let windows = (0..frames).flat_map(|t| input[t * 64..][..96].to_vec()).collect::<Vec<_>>();
        let unfolded = matrix.forward(&Tensor::from_vec(windows, (frames, 96), &Device::Cpu)?, &bias)?;
        assert_eq!(ours, unfolded.flatten_all()?.to_vec1::<f32>()?);
        assert!(matrix.matmul(&input, 64, frames + 1, &bias).is_err(), "a window past the input's end");
        assert!(matrix.matmul(&input, 64, frames, &bias[..31]).is_err(), "a bias short of the columns");
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn float_matrices_pack_to_q8_0_integers() -> Result<()> {
        // values q · 2^-6 with every block reaching |q| = 127: its q8_0 integers and scale are exact,
        // so our rounding and candle's (f16 scale, ties away from zero) must pack the same matrix
        let (columns, depth) = (64, 96);
        let exact = (0..columns * depth).map(|i| if i % 32 == 7 { -127 } else { (i * 37 % 255) as i32 - 127 } as f32 / 64.0).collect::<Vec<_>>();
        let weight = Tensor::from_vec(exact.clone(), (columns, depth), &Device::Cpu)?;
        let ours = Int8Matrix::quantize(&exact, columns, depth)?;
        let candles = Int8Matrix::from_gguf(&QTensor::quantize(&weight, GgmlDType::Q8_0)?)?;
        let (input, bias) = (random((9, depth), 3)?, vec![0.5; columns]);
        assert_eq!(ours.forward(&input, &bias)?.to_vec2::<f32>()?, candles.forward(&input, &bias)?.to_vec2::<f32>()?);
        // and any values: close to the float product
        let weight = random((columns, depth), 4)?;
        let matrix = Int8Matrix::quantize(&weight.flatten_all()?.to_vec1()?, columns, depth)?;
        let (ours, float) = (matrix.forward(&input, &bias)?, input.matmul(&weight.t()?)?.broadcast_add(&Tensor::new(bias.as_slice(), &Device::Cpu)?)?);
        let relative = ((&ours - &float)?.sqr()?.sum_all()?.sqrt()? / float.sqr()?.sum_all()?.sqrt()?)?.to_scalar::<f32>()?;
        assert!(relative < 0.02, "relative error {relative}");
        assert!(Int8Matrix::quantize(&exact[1..], columns, depth).is_err(), "a value short");
        assert!(Int8Matrix::quantize(&exact, 48, 128).is_err(), "48 columns are not whole panels");
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

    // catching the panic needs unwinding, which wasm builds do not have (panic = abort)
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn four_bit_weights_without_block_sums_or_short_slices_panic_instead_of_overrunning() -> Result<()> {
        let weights = random((32, 256), 31)?;
        let pack = |dtype| Int8Matrix::from_gguf(&QTensor::quantize(&weights, dtype)?);
        let (q8, q4, q4k) = (pack(GgmlDType::Q8_0)?, pack(GgmlDType::Q4_0)?, pack(GgmlDType::Q4K)?);
        let bias = [0f32; 32];
        let input = random((2, 256), 32)?.flatten_all()?.to_vec1::<f32>()?;
        let linear = |matrix| Int8Linear { parts: std::slice::from_ref(matrix), depth: 256, columns: 32, gelu: false };
        let run = |linear: &Int8Linear, operand: &QuantizedRows, unpacked: &Vec<f32>, output_len: usize| {
            let mut output = vec![MaybeUninit::<f32>::uninit(); output_len];
            // SAFETY: `from_gguf` found AVX-512 VNNI; the kernel checks the rest itself.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { linear.tile::<2>(operand, unpacked, 0, 0, &mut output) })).is_ok()
        };
        let (parts_q8, parts_q4, parts_q4k) = ([(&q8, &bias[..])], [(&q4, &bias[..])], [(&q4k, &bias[..])]);
        let (linear_q8, linear_q4, linear_q4k) = (linear(&parts_q8[0]), linear(&parts_q4[0]), linear(&parts_q4k[0]));
        let (without_sums, with_sums) = (linear_q8.prepare(&input, 2, 256), linear_q4.prepare(&input, 2, 256));
        assert!(without_sums.sum_terms.scaled.is_none() && with_sums.sum_terms.scaled.is_some(), "scaled block sums exactly where 4-bit weights read them");
        let (nothing, mut unpacked) = (Vec::new(), Vec::new());
        linear_q4k.unpack_panel(0, &mut unpacked);
        assert_eq!(unpacked.len(), 2 * 8 * PANEL, "q4_k's 8 blocks' scales and offsets");
        assert!(run(&linear_q8, &without_sums, &nothing, 64) && run(&linear_q4, &with_sums, &nothing, 64), "both kernels, in bounds");
        assert!(run(&linear_q4k, &with_sums, &unpacked, 64), "q4_k with its panel unpacked");
        assert!(!run(&linear_q4, &without_sums, &nothing, 64), "4-bit weights without block sums");
        assert!(!run(&linear_q4k, &with_sums, &nothing, 64), "q4_k without its panel unpacked");
        assert!(!run(&linear_q4k, &with_sums, &unpacked[1..].to_vec(), 64), "q4_k with one unpacked value short");
        assert!(!run(&linear_q8, &without_sums, &nothing, 63), "an output one value short");
        let one_row = linear_q4.prepare(&input, 1, 256);
        assert!(!run(&linear_q4, &one_row, &nothing, 64), "activations, scales and sums of one row for a tile of two");
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn q4_k_block_scales_unpack_to_its_own_dequantization() -> Result<()> {
        // two panels, two super-blocks: each block's `d · q + m` is what candle dequantizes to
        let quantized = QTensor::quantize(&((random((64, 512), 61)? + 0.4)? * 0.1)?, GgmlDType::Q4K)?;
        let dequantized = quantized.dequantize(&Device::Cpu)?.to_vec2::<f32>()?;
        let (matrix, blocks) = (Int8Matrix::from_gguf(&quantized)?, 512 / BLOCK);
        let mut unpacked = Vec::new();
        for panel in 0..2 {
            matrix.unpack_panel(panel, &mut unpacked);
            let (scales, minimums) = unpacked.split_at(blocks * PANEL);
            for (lane, block) in (0..PANEL).flat_map(|lane| (0..blocks).map(move |block| (lane, block))) {
                let (d, m) = (scales[block * PANEL + lane], minimums[block * PANEL + lane]);
                let column = &dequantized[panel * PANEL + lane][block * BLOCK..][..BLOCK];
                // q4_k's 4-bit values, 0..=15, are whatever makes `d · q + m` the dequantized value
                assert!(column.iter().all(|&w| (0..16).any(|q| d * q as f32 + m == w)), "panel {panel}, column {lane}, block {block}");
            }
        }
        Ok(())
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
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

    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance)]
        fn now() -> f64;
    }

    /// Not a test: the product's time for MMS-300m's shapes (500 frames, 10 s of audio) on one thread,
    /// median of 9, which scripts/bench-wasm-kernels.sh runs in each wasm build and compares.
    #[cfg(target_arch = "wasm32")]
    #[test]
    #[ignore = "a benchmark: scripts/bench-wasm-kernels.sh runs it"]
    fn bench_mms_300m_shapes() -> Result<()> {
        #[cfg(target_feature = "relaxed-simd")]
        wasm_bindgen_test::console_log!("relaxed dot product exact: {}", backend::relaxed_dot_is_exact());
        let (rows, repeats) = (500, 9);
        for (depth, columns, dtype) in [(1024, 1024, GgmlDType::Q8_0), (1024, 4096, GgmlDType::Q8_0), (4096, 1024, GgmlDType::Q8_0), (1024, 4096, GgmlDType::Q4K)] {
            let matrix = Int8Matrix::from_gguf(&QTensor::quantize(&random((columns, depth), 1)?, dtype)?)?;
            let (input, bias) = (random((rows, depth), 2)?.flatten_all()?.to_vec1::<f32>()?, vec![0.1; columns]);
            let output = matrix.matmul(&input, depth, rows, &bias)?;
            let mut times = (0..repeats)
                .map(|_| {
                    let start = now();
                    std::hint::black_box(matrix.matmul(&input, depth, rows, &bias)?);
                    Ok(now() - start)
                })
                .collect::<Result<Vec<f64>>>()?;
            times.sort_by(f64::total_cmp);
            wasm_bindgen_test::console_log!("bench {dtype:?} {rows}x{depth}x{columns} {:.1} ms", times[repeats / 2]);
            // the output's bits, so that versions of the kernel can be checked to give the same
            let bits = output.iter().fold(0u64, |hash, value| (hash ^ u64::from(value.to_bits())).wrapping_mul(0x100000001b3));
            wasm_bindgen_test::console_log!("output {dtype:?} {rows}x{depth}x{columns} {bits:016x}");
        }
        Ok(())
    }
}
