//! The loop our matrix-product kernels share (`int8/`, `bf16.rs`).
//!
//! Output rows are split into tasks over rayon threads (all on the calling thread where there are
//! none). A task converts its input rows once into the kernel's operand format (int8 blocks, bf16
//! pairs), then walks the weight panels of 32 columns, each in micro-tiles of up to [`MICRO_ROWS`]
//! rows, so that every weight load feeds that many multiply-adds. What a panel's tiles read besides
//! the packed weights (int8's q4_k scales, stored compact) is unpacked once per task and panel.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, Result, Storage, Tensor};
use rayon::prelude::*;

/// Output columns per micro-tile: two vectors of 16 lanes.
pub const PANEL: usize = 32;
/// Rows per micro-tile. AVX-512 has 32 vector registers: six rows × 32 columns is 12 accumulators of
/// 16 lanes, leaving room for the weight loads and broadcasts. Wasm engines compile SIMD to 16 SSE/AVX
/// (or NEON) registers of 4 lanes, so a wasm tile is four rows, walked 4 columns at a time (6 rows
/// spilled registers and were far slower in Chromium; 3 were no faster).
pub const MICRO_ROWS: usize = if cfg!(target_arch = "wasm32") { 4 } else { 6 };
/// Rows per parallel task: their converted input stays in L2 while every panel passes over it.
const TASK_ROWS: usize = 8 * MICRO_ROWS;

/// A packed weight matrix with a micro-kernel.
///
/// # Safety
/// Implementors are only constructed where the CPU has the features their `unsafe` methods use.
pub unsafe trait TileKernel: Sync {
    /// A task's input rows in the kernel's own format.
    type Operand;

    /// What a panel's tiles read besides its packed weights, unpacked once per task and panel
    /// (int8's q4_k block scales); `()` where nothing is.
    type Unpacked: Default;

    fn columns(&self) -> usize;

    /// Converts `rows` input rows; row `i` is `input[i * row_stride..]`.
    fn prepare(&self, input: &[f32], rows: usize, row_stride: usize) -> Self::Operand;

    /// Fills `into` for `panel`'s tiles (`into` may hold an earlier panel's, to be reused).
    fn unpack_panel(&self, panel: usize, into: &mut Self::Unpacked);

    /// Writes `ROWS` output rows of one panel: output row `r` (of `columns()` values, starting at
    /// `output[r * columns()]`) from operand row `first_row + r`, bias included, with `unpacked` as
    /// [`TileKernel::unpack_panel`] left it for this panel. It must write every column of the panel
    /// below `columns()`: [`matmul`]'s output is not initialised before.
    ///
    /// # Safety
    /// The operand has rows `first_row..first_row + ROWS` and `output` holds `ROWS` full rows.
    unsafe fn tile<const ROWS: usize>(&self, operand: &Self::Operand, unpacked: &Self::Unpacked, first_row: usize, panel: usize, output: &mut [MaybeUninit<f32>]);
}

/// The row-major `[rows, columns]` product; input row `i` is `input[i * row_stride..]`.
///
/// The output is not zeroed first: every panel of every row is written by a tile, and zeroing it
/// was a single-threaded pass over megabytes that both cores waited on.
pub fn matmul<K: TileKernel>(kernel: &K, input: &[f32], row_stride: usize, rows: usize) -> Vec<f32> {
    let columns = kernel.columns();
    let mut output = Vec::with_capacity(rows * columns);
    let task = |(task, output): (usize, &mut [MaybeUninit<f32>])| {
        let task_rows = output.len() / columns;
        let operand = kernel.prepare(&input[task * TASK_ROWS * row_stride..], task_rows, row_stride);
        let mut unpacked = K::Unpacked::default();
        for panel in 0..columns.div_ceil(PANEL) {
            kernel.unpack_panel(panel, &mut unpacked);
            for row in (0..task_rows).step_by(MICRO_ROWS) {
                let output = &mut output[row * columns..];
                // SAFETY: the trait's contract covers the CPU; the operand and `output` hold the tile's rows.
                unsafe {
                    // a tile of every row left, up to MICRO_ROWS: never one that overlaps the next
                    // (kernels may lay a tile's rows out together, as the wasm one does)
                    match (task_rows - row).min(MICRO_ROWS) {
                        1 => kernel.tile::<1>(&operand, &unpacked, row, panel, output),
                        2 => kernel.tile::<2>(&operand, &unpacked, row, panel, output),
                        3 => kernel.tile::<3>(&operand, &unpacked, row, panel, output),
                        4 => kernel.tile::<4>(&operand, &unpacked, row, panel, output),
                        5 => kernel.tile::<5>(&operand, &unpacked, row, panel, output),
                        _ => kernel.tile::<MICRO_ROWS>(&operand, &unpacked, row, panel, output),
                    }
                }
            }
        }
    };
    output.spare_capacity_mut()[..rows * columns].par_chunks_mut(TASK_ROWS * columns).enumerate().for_each(task);
    // SAFETY: the tiles wrote every value of every row (the trait's contract), and plain f32 needs no more.
    unsafe { output.set_len(rows * columns) };
    output
}

/// Hands `f` the values of an f32 CPU tensor as one slice (copied only if not contiguous).
pub fn with_f32_values<R>(xs: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let xs = xs.contiguous()?;
    let (storage, layout) = xs.storage_and_layout();
    match (&*storage, layout.contiguous_offsets()) {
        (Storage::Cpu(CpuStorage::F32(data)), Some((start, end))) => f(&data[start..end]),
        _ => candle_core::bail!("our CPU kernels take f32 tensors on the CPU, not {:?} on {:?}", xs.dtype(), xs.device()),
    }
}
