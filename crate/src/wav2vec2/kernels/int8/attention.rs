//! Attention's two products through the int8 kernel, where it runs but the bf16 one does not (wasm),
//! for quantized models: per head, `softmax(scale · q kᵀ) v` with the head's keys, then its values,
//! packed as q8_0 matrices (one scale per 32 values) and multiplied by the query rows, then the
//! probability rows, quantized as the kernel quantizes any input. In wasm candle's f32 product ran
//! these at a fraction of the int8 kernel's speed: a large share of a Chromium profile of MMS-300m
//! for a small share of its multiply-adds.

use candle_core::Result;
use rayon::prelude::*;

use super::super::elementwise::softmax_rows;
use super::{Int8Matrix, BLOCK, PANEL};

/// Whether [`attention`] takes heads of this size: whole blocks of the query rows, and the values'
/// columns in whole panels.
pub fn takes_head_dim(head_dim: usize) -> bool {
    head_dim > 0 && head_dim.is_multiple_of(PANEL) && head_dim.is_multiple_of(BLOCK)
}

/// The context `[frames, heads · head_dim]` from one utterance's fused projections, rows of
/// `q | k | v` (as `kernels::bf16_attention` takes them).
pub fn attention(qkv: &[f32], frames: usize, heads: usize, head_dim: usize, scale: f32) -> Result<Vec<f32>> {
    let hidden = heads * head_dim;
    let row = 3 * hidden;
    if qkv.len() != frames * row || !takes_head_dim(head_dim) || !Int8Matrix::available() {
        candle_core::bail!("int8 attention: {} values as {frames} rows of q, k, v for {heads} heads of {head_dim}", qkv.len())
    }
    // Keys in whole panels of columns, which are also whole blocks of the probabilities' depth; a
    // key past the last frame gets a score of -inf, so its probability is 0.
    let keys = frames.next_multiple_of(PANEL);
    let key_bias = (0..keys).map(|key| if key < frames { 0.0 } else { f32::NEG_INFINITY }).collect::<Vec<_>>();
    let value_bias = vec![0f32; head_dim];
    let heads = (0..heads)
        .into_par_iter()
        .map(|head| {
            // `[keys, head_dim]` and `[head_dim, keys]` (values transposed), zero beyond the frames
            let part = |offset: usize, transposed: bool| {
                let mut packed = vec![0f32; keys * head_dim];
                for frame in 0..frames {
                    let values = &qkv[frame * row + offset + head * head_dim..][..head_dim];
                    for (i, &value) in values.iter().enumerate() {
                        packed[if transposed { i * keys + frame } else { frame * head_dim + i }] = value;
                    }
                }
                let (columns, depth) = if transposed { (head_dim, keys) } else { (keys, head_dim) };
                Int8Matrix::quantize(&packed, columns, depth)
            };
            let (k, v) = (part(hidden, false)?, part(2 * hidden, true)?);
            let mut scores = k.matmul(&qkv[head * head_dim..], row, frames, &key_bias)?;
            softmax_rows(&mut scores, keys, scale);
            v.matmul(&scores, keys, frames, &value_bias)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut context = vec![0f32; frames * hidden];
    for (head, values) in heads.iter().enumerate() {
        for (frame, values) in values.chunks_exact(head_dim).enumerate() {
            context[frame * hidden + head * head_dim..][..head_dim].copy_from_slice(values);
        }
    }
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Plain f64 attention over the same rows.
    fn reference(qkv: &[f32], frames: usize, heads: usize, head_dim: usize, scale: f32) -> Vec<f32> {
        let (hidden, row) = (heads * head_dim, 3 * heads * head_dim);
        let at = |frame: usize, part: usize, head: usize, i: usize| qkv[frame * row + part * hidden + head * head_dim + i] as f64;
        let mut context = vec![0f32; frames * hidden];
        for head in 0..heads {
            for query in 0..frames {
                let scores = (0..frames).map(|key| (0..head_dim).map(|i| at(query, 0, head, i) * at(key, 1, head, i)).sum::<f64>() * scale as f64);
                let scores = scores.collect::<Vec<_>>();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let weights = scores.iter().map(|s| (s - max).exp()).collect::<Vec<_>>();
                let total: f64 = weights.iter().sum();
                for i in 0..head_dim {
                    let value: f64 = weights.iter().enumerate().map(|(key, w)| w * at(key, 2, head, i)).sum();
                    context[query * hidden + head * head_dim + i] = (value / total) as f32;
                }
            }
        }
        context
    }

    #[test]
    #[cfg_attr(not(cpu_runs_int8_kernel), ignore = "needs AVX-512 VNNI or wasm SIMD, which this CPU lacks (nor is the int8 kernel used here)")]
    fn is_close_to_exact_attention_for_frames_that_fill_no_whole_panel() -> Result<()> {
        let (heads, head_dim) = (2, 64);
        for frames in [1, 45, 70] {
            let mut state = frames as u64;
            let qkv = (0..frames * 3 * heads * head_dim)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 4.0
                })
                .collect::<Vec<_>>();
            let scale = 1.0 / (head_dim as f32).sqrt();
            let (ours, exact) = (attention(&qkv, frames, heads, head_dim, scale)?, reference(&qkv, frames, heads, head_dim, scale));
            let error = ours.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            let size = exact.iter().map(|v| v.abs()).fold(0f32, f32::max);
            // 8-bit rounding of q, k, the probabilities and v, each per 32 values
            assert!(error < 0.03 * size, "{frames} frames: largest difference {error} for values up to {size}");
            assert!(ours.iter().all(|v| v.is_finite()), "{frames} frames: the padded keys leak into the context");
        }
        assert!(attention(&[0.0; 10], 2, 2, 64, 1.0).is_err(), "rows of the wrong length");
        Ok(())
    }
}
