//! CPU kernels for the two element-wise steps where candle 0.11 is the bottleneck: the attention
//! softmax and exact (erf) GELU. candle evaluates both with scalar libm `expf` / `erff`, which stood
//! out in a perf profile of MMS-300m. Here `exp` and `erf` are
//! written so that the compiler vectorises them (no branches, no libm calls), the x86 build is compiled
//! a second time for AVX2 + FMA and picked at run time, and rows are spread over rayon's threads.
//!
//! Accuracy: `exp` within 2 ulp over the range softmax uses, `erf` within 1e-6 absolute (Abramowitz &
//! Stegun 7.1.26), both far below the f32 noise of the layers around them (the parity tests hold
//! logits to 1e-4 of transformers).

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Softmax over the last dimension (any rank), as `candle_nn::ops::softmax_last_dim`.
pub fn softmax_last_dim(xs: &Tensor) -> Result<Tensor> {
    xs.contiguous()?.apply_op1_no_bwd(&SoftmaxLastDim)
}

/// Exact GELU, `x * Φ(x)` with the normal CDF through erf, as PyTorch's `gelu` and candle's `gelu_erf`.
pub fn gelu_erf(xs: &Tensor) -> Result<Tensor> {
    xs.contiguous()?.apply_op1_no_bwd(&GeluErf)
}

/// Calls a portable kernel through its AVX2 + FMA compilation where the CPU has them; arguments
/// are written `name: type = value`.
macro_rules! dispatch {
    ($kernel:ident($($arg:ident: $type:ty = $value:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($($arg: $type),*) {
                    $kernel($($arg),*)
                }
                // SAFETY: the CPU has the features `wide` was compiled for (checked just above).
                unsafe { wide($($value),*) }
            } else {
                $kernel($($value),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        $kernel($($value),*)
    }};
}

/// Softmax of `scale ×` each row of `row_len` values of `data` (`scale > 0`), in place, on the
/// calling thread. Attention folds its `1/√head_dim` in here instead of a pass over the queries.
pub(super) fn softmax_rows(data: &mut [f32], row_len: usize, scale: f32) {
    dispatch!(softmax_each_row(data: &mut [f32] = data, row_len: usize = row_len, scale: f32 = scale))
}

/// LayerNorm over the last dimension, then exact GELU, in place: the feature encoder's first layer
/// writes its largest tensor (512 channels at 3.2 kHz), and candle's norm and GELU
/// each made another copy of it, which the wasm heap then kept for good. `xs` must be a contiguous
/// f32 tensor that nothing else shares (a fresh output).
pub fn layer_norm_gelu_in_place(xs: &Tensor, norm: &candle_nn::LayerNorm) -> Result<()> {
    let parameter = |t: &Tensor| t.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>();
    let Some(bias) = norm.bias() else { candle_core::bail!("layer_norm_gelu_in_place: a LayerNorm without bias") };
    let op = LayerNormGelu { weight: parameter(norm.weight())?, bias: parameter(bias)?, eps: norm.eps() as f32 };
    if xs.dims().last() != Some(&op.weight.len()) {
        candle_core::bail!("layer_norm_gelu_in_place: {:?} for a norm over {}", xs.dims(), op.weight.len())
    }
    xs.inplace_op1(&op)
}

struct LayerNormGelu {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl candle_core::InplaceOp1 for LayerNormGelu {
    fn name(&self) -> &'static str {
        "sakha-layer-norm-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let CpuStorage::F32(data) = storage else { candle_core::bail!("{} takes f32 tensors", self.name()) };
        let Some((start, end)) = layout.contiguous_offsets() else { candle_core::bail!("{} takes a contiguous tensor", self.name()) };
        let width = self.weight.len();
        let normalise = |row: &mut [f32]| {
            let mean = row.iter().sum::<f32>() / width as f32;
            let variance = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / width as f32;
            let inverse = 1.0 / (variance + self.eps).sqrt();
            for ((x, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *x = (*x - mean) * inverse * w + b;
            }
            dispatch!(gelu_in_place(data: &mut [f32] = row))
        };
        // rayon runs everything on the calling thread where it has no threads
        data[start..end].par_chunks_exact_mut(width).for_each(normalise);
        Ok(())
    }
}

struct SoftmaxLastDim;
struct GeluErf;

impl CustomOp1 for SoftmaxLastDim {
    fn name(&self) -> &'static str {
        "sakha-softmax-last-dim"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let input = f32_contiguous(storage, layout, self.name())?;
        let row_len = layout.dims().last().copied().unwrap_or(1).max(1);
        // Whole rows per task: a 500-frame attention row is 2 KB, so group them into ~64 KB tasks.
        let rows_per_task = (16 * 1024 / row_len).max(1);
        let output = transformed_copy(input, rows_per_task * row_len, |chunk| softmax_rows(chunk, row_len, 1.0));
        Ok((CpuStorage::F32(output), layout.shape().clone()))
    }
}

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "sakha-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let input = f32_contiguous(storage, layout, self.name())?;
        let output = transformed_copy(input, 16 * 1024, |chunk| dispatch!(gelu_in_place(data: &mut [f32] = chunk)));
        Ok((CpuStorage::F32(output), layout.shape().clone()))
    }
}

fn f32_contiguous<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{op} takes f32 tensors")
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op} takes a contiguous tensor"),
    }
}

/// A copy of `input` with `work` applied to each chunk of `chunk_len` values, chunks in parallel
/// where there are threads. Each task copies its own chunk: a whole-tensor copy up front was a
/// single-threaded pass that the other cores waited on.
fn transformed_copy(input: &[f32], chunk_len: usize, work: impl Fn(&mut [f32]) + Sync + Send) -> Vec<f32> {
    let mut output = Vec::with_capacity(input.len());
    let task = |(from, to): (&[f32], &mut [MaybeUninit<f32>])| {
        for (to, &from) in to.iter_mut().zip(from) {
            to.write(from);
        }
        // SAFETY: `to` and `from` are equal-length chunks, so the loop above wrote all of `to` (`f32`'s layout).
        work(unsafe { &mut *(to as *mut [MaybeUninit<f32>] as *mut [f32]) });
    };
    let slots = &mut output.spare_capacity_mut()[..input.len()];
    // rayon runs everything on the calling thread where it has no threads (a single-thread wasm build).
    if rayon::current_num_threads() > 1 && input.len() > chunk_len {
        input.par_chunks(chunk_len).zip(slots.par_chunks_mut(chunk_len)).for_each(task);
    } else {
        input.chunks(chunk_len).zip(slots.chunks_mut(chunk_len)).for_each(task);
    }
    // SAFETY: the chunks cover `input.len()` values and each task wrote all of its chunk.
    unsafe { output.set_len(input.len()) };
    output
}

/// Lanes of the manual reductions: enough independent accumulators for the compiler to keep them
/// in vector registers.
const LANES: usize = 16;

#[inline(always)]
fn softmax_each_row(data: &mut [f32], row_len: usize, scale: f32) {
    for row in data.chunks_exact_mut(row_len) {
        softmax_row(row, scale);
    }
}

#[inline(always)]
fn softmax_row(row: &mut [f32], scale: f32) {
    let mut maxima = [f32::NEG_INFINITY; LANES];
    let mut blocks = row.chunks_exact(LANES);
    for block in &mut blocks {
        for (m, &x) in maxima.iter_mut().zip(block) {
            *m = m.max(x);
        }
    }
    let max = blocks.remainder().iter().chain(&maxima).fold(f32::NEG_INFINITY, |a, &b| a.max(b));

    let mut sums = [0.0f32; LANES];
    let mut blocks = row.chunks_exact_mut(LANES);
    for block in &mut blocks {
        for (s, x) in sums.iter_mut().zip(block) {
            *x = exp((*x - max) * scale);
            *s += *x;
        }
    }
    let mut sum: f32 = sums.iter().sum();
    for x in blocks.into_remainder() {
        *x = exp((*x - max) * scale);
        sum += *x;
    }
    let scale = 1.0 / sum;
    for x in row.iter_mut() {
        *x *= scale;
    }
}

/// Exact GELU in place, for kernels to inline into their own target-feature code.
#[inline(always)]
pub(super) fn gelu_in_place(data: &mut [f32]) {
    for x in data.iter_mut() {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// `e^x` by range reduction `x = n ln2 + r`, `|r| <= ln2 / 2`, and Cephes' `expf` polynomial for
/// `e^r`; `2^n` is assembled in the exponent bits. Inputs are clamped to where the result is a
/// normal f32, so below -87.3 it returns ~1e-38 instead of 0, which no sum of probabilities notices.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that `n * LN2_HIGH` is exact for the n that occur.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer without a rounding call.
    const ROUNDING: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let n = (x * LOG2_E + ROUNDING) - ROUNDING;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_65;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // 2^n: `n + 127` (the biased exponent, 1..=254 after the clamp) lands in the low mantissa bits of
    // `n + 127 + 2^23`; shifted into the exponent field. An `as i32` would not vectorise (it saturates).
    const EXPONENT_BIAS_PLUS_2_23: f32 = 127.0 + 8_388_608.0;
    let two_n = f32::from_bits((n + EXPONENT_BIAS_PLUS_2_23).to_bits() << 23);
    e_r * two_n
}

/// erf with absolute error below 1e-6: Abramowitz & Stegun 7.1.26 (1.5e-7 in exact arithmetic; its
/// alternating coefficients lose a few ulp in f32).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let magnitude = 1.0 - poly * exp(-a * a);
    magnitude.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn spread(count: usize, low: f32, high: f32) -> Vec<f32> {
        (0..count).map(|i| low + (high - low) * i as f32 / (count - 1) as f32).collect()
    }

    #[test]
    fn exp_is_within_two_ulp_where_softmax_uses_it() {
        for x in spread(200_001, -80.0, 0.0) {
            let (ours, reference) = (exp(x), x.exp());
            assert!((ours - reference).abs() <= 2.0 * f32::EPSILON * reference, "exp({x}) = {ours}, libm {reference}");
        }
        assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), exp(-87.3), "clamped, not NaN");
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn erf_is_within_its_bound_everywhere() {
        for x in spread(200_001, -10.0, 10.0) {
            let reference = libm_erf(x as f64);
            assert!((erf(x) as f64 - reference).abs() < 1e-6, "erf({x}) = {}, reference {reference}", erf(x));
        }
        assert_eq!(erf(100.0), 1.0);
        assert_eq!(erf(-100.0), -1.0);
    }

    /// erf in f64 by its Maclaurin series (|x| < 3) or continued fraction of erfc, for reference.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() < 3.0 {
            let (mut term, mut sum, mut k) = (x, x, 0.0);
            while term.abs() > 1e-17 {
                k += 1.0;
                term *= -x * x / k;
                sum += term / (2.0 * k + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let a = x.abs();
            let mut fraction = 0.0;
            for k in (1..60).rev() {
                fraction = (k as f64 / 2.0) / (a + fraction);
            }
            let erfc = (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + fraction);
            (1.0 - erfc).copysign(x)
        }
    }

    #[test]
    fn ops_match_candles_own() -> Result<()> {
        let device = Device::Cpu;
        // odd sizes: remainders of the 16-lane blocks and of the parallel chunks
        let values = spread(7 * 3 * 1037, -30.0, 25.0).into_iter().map(|v| (v * 7.3).sin() * v).collect::<Vec<_>>();
        let xs = Tensor::from_vec(values, (7, 3, 1037), &device)?;
        for (ours, reference) in [
            (softmax_last_dim(&xs)?, candle_nn::ops::softmax_last_dim(&xs)?),
            (gelu_erf(&xs)?, xs.gelu_erf()?),
            // a transposed view goes through `contiguous` first
            (softmax_last_dim(&xs.transpose(1, 2)?)?, candle_nn::ops::softmax_last_dim(&xs.transpose(1, 2)?.contiguous()?)?),
        ] {
            assert_eq!(ours.dims(), reference.dims());
            let error = (ours - reference)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
            assert!(error < 2e-6, "largest difference {error}");
        }
        let rows = softmax_last_dim(&xs)?.sum(2)?.flatten_all()?.to_vec1::<f32>()?;
        assert!(rows.iter().all(|s| (s - 1.0).abs() < 1e-5), "rows sum to {rows:?}");
        // a scale folded into the softmax is the softmax of the scaled input
        let mut scaled = xs.flatten_all()?.to_vec1::<f32>()?;
        softmax_rows(&mut scaled, 1037, 0.125);
        let reference = candle_nn::ops::softmax_last_dim(&(&xs * 0.125)?)?.flatten_all()?.to_vec1::<f32>()?;
        let error = scaled.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(error < 2e-6, "scaled softmax: largest difference {error}");
        Ok(())
    }

    #[test]
    fn layer_norm_then_gelu_in_place_is_candles_norm_then_gelu() -> Result<()> {
        let device = Device::Cpu;
        let values = spread(9 * 512, -4.0, 6.0).into_iter().map(|v| (v * 3.1).sin() * v + 0.5).collect::<Vec<_>>();
        let xs = Tensor::from_vec(values, (1, 9, 512), &device)?;
        let weight = Tensor::from_vec(spread(512, 0.5, 1.5), 512, &device)?;
        let bias = Tensor::from_vec(spread(512, -0.2, 0.3), 512, &device)?;
        let norm = candle_nn::LayerNorm::new(weight, bias, 1e-5);
        let reference = candle_nn::Module::forward(&norm, &xs)?.gelu_erf()?;
        let ours = xs.copy()?;
        layer_norm_gelu_in_place(&ours, &norm)?;
        let error = (ours - reference)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
        assert!(error < 1e-5, "largest difference {error}");
        assert!(layer_norm_gelu_in_place(&xs.narrow(2, 0, 256)?, &norm).is_err(), "a norm over 512 on rows of 256");
        Ok(())
    }
}
