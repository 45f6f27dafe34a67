//! The float wav2vec2 CTC model. Layer and weight names follow transformers' `modeling_wav2vec2.py`
//! so HF checkpoints load as they are.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Activation, LayerNorm};

use rayon::prelude::*;
use std::sync::Arc;

use super::kernels::{self, Bf16Matrix, Int8Matrix};
use super::weights::{ConvProducts, Linear, WeightStore};
use super::{Config, FeatExtractNorm};

/// PyTorch's default LayerNorm / GroupNorm eps: transformers builds the conv-stack and adapter norms
/// without passing `layer_norm_eps`, so they use this whatever the config says.
const TORCH_NORM_EPS: f64 = 1e-5;

/// A config activation; exact GELU, the one wav2vec2 checkpoints use, through our faster kernel.
fn activate(activation: Activation, xs: &Tensor) -> Result<Tensor> {
    match activation {
        Activation::Gelu => kernels::gelu_erf(xs),
        other => other.forward(xs),
    }
}

fn layer_norm(size: usize, eps: f64, vb: &WeightStore) -> Result<LayerNorm> {
    Ok(LayerNorm::new(vb.get(size, "weight")?, vb.get(size, "bias")?, eps))
}

/// A conv of the feature encoder on time-major `[B, T, C]` input, run as one matrix product.
///
/// candle's conv1d works on `[B, C, T]` and spends most of its time in layout copies for these
/// shapes (one input channel and 32 000 frames in the first layer), and LayerNorm over channels then
/// needs transposes. Time-major, the window of output frame `t` is rows `t*stride .. t*stride+kernel`,
/// so gathering the windows ("im2col") is `kernel` strided row copies, and the norm runs in place.
/// Our bf16 and int8 kernels need no gathering at all: they read the windows as overlapping rows of
/// the input.
#[derive(Debug, Clone)]
struct TimeMajorConv {
    product: ConvProduct,
    kernel: usize,
    stride: usize,
}

/// How a conv's matrix product runs.
#[derive(Debug, Clone)]
enum ConvProduct {
    /// candle's f32 matmul over the gathered windows; the weight is `[kernel * in_channels,
    /// out_channels]`, ordered like a window.
    F32 { weight: Tensor, bias: Option<Tensor> },
    /// Our bf16 kernel (see [`WeightStore::conv_products`]), bias included.
    Bf16(Arc<Bf16Matrix>),
    /// Our int8 kernel over the weight rounded to q8_0 (see [`WeightStore::conv_products`]).
    Int8 { matrix: Arc<Int8Matrix>, bias: Vec<f32> },
}

impl ConvProduct {
    /// The output columns of a product our kernels run; `None` for candle's.
    fn packed_columns(&self) -> Option<usize> {
        match self {
            ConvProduct::F32 { .. } => None,
            ConvProduct::Bf16(matrix) => Some(matrix.columns()),
            ConvProduct::Int8 { matrix, .. } => Some(matrix.shape()[0]),
        }
    }

    /// Our kernels' `[rows, columns]` product over overlapping input rows `row_stride` apart.
    fn packed_matmul(&self, input: &[f32], row_stride: usize, rows: usize) -> Result<Vec<f32>> {
        match self {
            ConvProduct::F32 { .. } => candle_core::bail!("candle's f32 product takes unfolded windows"),
            ConvProduct::Bf16(matrix) => matrix.matmul(input, row_stride, rows),
            ConvProduct::Int8 { matrix, bias } => matrix.matmul(input, row_stride, rows, bias),
        }
    }
}

impl TimeMajorConv {
    fn load(in_channels: usize, out_channels: usize, conv: (usize, usize), bias: bool, products: ConvProducts, vb: &WeightStore) -> Result<Self> {
        let (kernel, stride) = conv;
        let weight = vb.get((out_channels, in_channels, kernel), "weight")?;
        let bias = if bias { Some(vb.get(out_channels, "bias")?) } else { None };
        Self::new(&weight, bias, stride, products)
    }

    /// From a PyTorch `[out, in, kernel]` conv weight, computed as `products` asks (f32 where our int8
    /// kernel cannot take the shape).
    fn new(weight: &Tensor, bias: Option<Tensor>, stride: usize, products: ConvProducts) -> Result<Self> {
        let (out_channels, in_channels, kernel) = weight.dims3()?;
        let depth = kernel * in_channels;
        let product = match products {
            ConvProducts::Bf16 => {
                let bias = bias.map(|bias| bias.to_vec1::<f32>()).transpose()?;
                let unfolded = weight.permute((2, 1, 0))?.reshape((depth, out_channels))?;
                ConvProduct::Bf16(Arc::new(Bf16Matrix::new(&unfolded.flatten_all()?.to_vec1()?, depth, out_channels, bias.as_deref())?))
            }
            ConvProducts::Int8 if Int8Matrix::fits(candle_core::quantized::GgmlDType::Q8_0, &[out_channels, depth]) => {
                // rows are output channels, each ordered like a window: kernel offset, then channel
                let rows = weight.permute((0, 2, 1))?.reshape((out_channels, depth))?;
                let bias = match bias {
                    Some(bias) => bias.to_vec1::<f32>()?,
                    None => vec![0.0; out_channels],
                };
                ConvProduct::Int8 { matrix: Arc::new(Int8Matrix::from_float(&rows)?), bias }
            }
            _ => ConvProduct::F32 { weight: weight.permute((2, 1, 0))?.reshape((depth, out_channels))?, bias },
        };
        Ok(Self { product, kernel, stride })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (batch, frames_in, channels) = xs.dims3()?;
        if frames_in < self.kernel {
            candle_core::bail!("{frames_in} frames are fewer than the conv kernel ({})", self.kernel)
        }
        let frames = (frames_in - self.kernel) / self.stride + 1;
        if let Some(columns) = self.product.packed_columns() {
            // window `t` of an utterance is its rows `t * stride ..`, `kernel` of them, contiguous
            let utterance = frames_in * channels;
            let outputs = kernels::with_f32_values(xs, |input| {
                (0..batch)
                    .map(|b| {
                        let output = self.product.packed_matmul(&input[b * utterance..][..utterance], self.stride * channels, frames)?;
                        Tensor::from_vec(output, (1, frames, columns), xs.device())
                    })
                    .collect::<Result<Vec<_>>>()
            })?;
            return Tensor::cat(&outputs, 0);
        }
        let ConvProduct::F32 { weight, bias } = &self.product else {
            unreachable!("every other product is packed")
        };
        // Padding by one stride lets every kernel offset take `stride * frames` rows and keep every
        // `stride`-th one with a reshape; the padded rows are never kept.
        let padded = xs.pad_with_zeros(1, 0, self.stride)?;
        let offsets = (0..self.kernel)
            .map(|offset| {
                padded.narrow(1, offset, self.stride * frames)?.reshape((batch, frames, self.stride, channels))?.narrow(2, 0, 1)
            })
            .collect::<Result<Vec<_>>>()?;
        let windows = Tensor::cat(&offsets, 2)?.reshape((batch * frames, self.kernel * channels))?;
        let ys = windows.matmul(weight)?.reshape((batch, frames, ()))?;
        match bias {
            Some(bias) => ys.broadcast_add(bias),
            None => Ok(ys),
        }
    }
}

/// `Wav2Vec2LayerNormConvLayer` / `Wav2Vec2GroupNormConvLayer` / `Wav2Vec2NoLayerNormConvLayer`.
#[derive(Debug, Clone)]
enum ConvNorm {
    /// LayerNorm over channels.
    Layer(LayerNorm),
    /// GroupNorm with one group per channel: each channel normalised over time, then scaled.
    PerChannel { weight: Tensor, bias: Tensor },
    None,
}

impl ConvNorm {
    /// `xs` is `[B, T, C]`.
    fn forward(&self, xs: Tensor) -> Result<Tensor> {
        match self {
            ConvNorm::Layer(norm) => norm.forward(&xs),
            ConvNorm::PerChannel { weight, bias } => {
                let centered = xs.broadcast_sub(&xs.mean_keepdim(1)?)?;
                let variance = centered.sqr()?.mean_keepdim(1)?;
                let normed = centered.broadcast_div(&(variance + TORCH_NORM_EPS)?.sqrt()?)?;
                normed.broadcast_mul(weight)?.broadcast_add(bias)
            }
            ConvNorm::None => Ok(xs),
        }
    }
}

#[derive(Debug, Clone)]
struct FeatureConvLayer {
    conv: TimeMajorConv,
    norm: ConvNorm,
    activation: Activation,
}

impl FeatureConvLayer {
    fn load(cfg: &Config, index: usize, vb: &WeightStore) -> Result<Self> {
        let in_channels = if index == 0 { 1 } else { cfg.conv_dim[index - 1] };
        let out_channels = cfg.conv_dim[index];
        let conv_shape = (cfg.conv_kernel[index], cfg.conv_stride[index]);
        // The first layer, on raw samples, keeps f32: it is cheap (one input channel), and bf16's
        // 8-bit significand would be coarser than 16-bit audio.
        let products = if index > 0 { vb.conv_products() } else { ConvProducts::F32 };
        let conv = TimeMajorConv::load(in_channels, out_channels, conv_shape, cfg.conv_bias, products, &vb.pp("conv"))?;
        let norm_vb = vb.pp("layer_norm");
        let norm = match cfg.feat_extract_norm {
            FeatExtractNorm::Layer => ConvNorm::Layer(layer_norm(out_channels, TORCH_NORM_EPS, &norm_vb)?),
            FeatExtractNorm::Group if index == 0 => ConvNorm::PerChannel {
                weight: norm_vb.get(out_channels, "weight")?,
                bias: norm_vb.get(out_channels, "bias")?,
            },
            FeatExtractNorm::Group => ConvNorm::None,
        };
        Ok(Self { conv, norm, activation: cfg.feat_extract_activation })
    }

    /// `[B, T, C_in]` to `[B, T', C_out]`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = self.conv.forward(xs)?;
        match (&self.norm, self.activation) {
            // MMS's layers: in place on the conv's fresh output (see `layer_norm_gelu_in_place`)
            (ConvNorm::Layer(norm), Activation::Gelu) => {
                let ys = ys.contiguous()?;
                kernels::layer_norm_gelu_in_place(&ys, norm)?;
                Ok(ys)
            }
            _ => activate(self.activation, &self.norm.forward(ys)?),
        }
    }
}

/// `Wav2Vec2FeatureEncoder`: raw samples `[B, S]` to conv features `[B, T, C]` (time-major).
#[derive(Debug, Clone)]
struct FeatureEncoder {
    layers: Vec<FeatureConvLayer>,
}

impl FeatureEncoder {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let layers = (0..cfg.conv_dim.len())
            .map(|i| FeatureConvLayer::load(cfg, i, &vb.pp(format!("conv_layers.{i}"))))
            .collect::<Result<_>>()?;
        Ok(Self { layers })
    }

    /// Runs the stack over pieces of [`FeatureEncoder::PIECE_FRAMES`] output frames where every layer
    /// works frame by frame (LayerNorm over channels, or no norm): each output frame sees only its
    /// `receptive_field` samples, so the pieces' outputs are exactly the whole's, and the first
    /// layers' large outputs (512 channels at 3.2 kHz, the model's largest tensors) exist for one
    /// piece at a time. The GroupNorm variant normalises each channel over all of time, so it runs
    /// whole.
    fn forward(&self, samples: &Tensor) -> Result<Tensor> {
        let whole = |samples: &Tensor| self.forward_whole(samples);
        let (hop, receptive_field) = self.hop_and_receptive_field();
        let length = samples.dim(1)?;
        let per_frame = self.layers.iter().all(|layer| !matches!(layer.norm, ConvNorm::PerChannel { .. }));
        if !per_frame || length < receptive_field + Self::PIECE_FRAMES * hop {
            return whole(samples);
        }
        let frames = (length - receptive_field) / hop + 1;
        let pieces = (0..frames)
            .step_by(Self::PIECE_FRAMES)
            .map(|first| {
                let count = Self::PIECE_FRAMES.min(frames - first);
                let piece = whole(&samples.narrow(1, first * hop, (count - 1) * hop + receptive_field)?)?;
                if piece.dim(1)? != count {
                    candle_core::bail!("feature encoder: a piece for {count} frames gave {}", piece.dim(1)?)
                }
                Ok(piece)
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::cat(&pieces, 1)
    }

    fn forward_whole(&self, samples: &Tensor) -> Result<Tensor> {
        self.layers.iter().try_fold(samples.unsqueeze(2)?, |xs, layer| layer.forward(&xs))
    }

    /// Output frames per piece: 2 s of audio at MMS's 20 ms per frame.
    const PIECE_FRAMES: usize = 100;

    /// Samples between output frames (the strides' product) and samples that one output frame sees.
    fn hop_and_receptive_field(&self) -> (usize, usize) {
        self.layers.iter().fold((1, 1), |(hop, field), layer| (hop * layer.conv.stride, field + (layer.conv.kernel - 1) * hop))
    }
}

/// `Wav2Vec2FeatureProjection`: LayerNorm over conv channels, then up to the hidden size.
#[derive(Debug, Clone)]
struct FeatureProjection {
    layer_norm: LayerNorm,
    projection: Linear,
}

impl FeatureProjection {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let conv_out = *cfg.conv_dim.last().expect("validated non-empty");
        Ok(Self {
            layer_norm: layer_norm(conv_out, cfg.layer_norm_eps, &vb.pp("layer_norm"))?,
            projection: Linear::load(conv_out, cfg.hidden_size, &vb.pp("projection"))?,
        })
    }

    /// `[B, T, C]` conv features to `[B, T, hidden]`.
    fn forward(&self, features: &Tensor) -> Result<Tensor> {
        self.projection.forward(&self.layer_norm.forward(features)?)
    }
}

/// `Wav2Vec2PositionalConvEmbedding`: a wide grouped conv whose output is added to the hidden states.
///
/// Run time-major, one [`TimeMajorConv`] per group: candle's grouped `conv1d` on `[B, C, T]` took
/// about twice as long for MMS's 16 groups × 128 taps, and needed transposes on both sides.
#[derive(Debug, Clone)]
struct PositionalConvEmbedding {
    groups: Vec<TimeMajorConv>,
    padding: usize,
}

impl PositionalConvEmbedding {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let hidden = cfg.hidden_size;
        let group_channels = hidden / cfg.num_conv_pos_embedding_groups;
        let vb = vb.pp("conv");
        // A package stores the folded weight: taken a group at a time, its f32 form never exists
        // whole. A checkpoint's weight-norm parts are folded once, whole.
        let shape = (hidden, group_channels, cfg.num_conv_pos_embeddings);
        let folded_here = if vb.contains("weight") { None } else { Some(positional_conv_weight(cfg, &vb)?) };
        let bias = vb.get(hidden, "bias")?;
        let groups = (0..cfg.num_conv_pos_embedding_groups)
            .map(|g| {
                let channels = g * group_channels;
                let weight = match &folded_here {
                    Some(weight) => weight.narrow(0, channels, group_channels)?,
                    None => vb.get_rows(shape, "weight", channels..channels + group_channels)?,
                };
                TimeMajorConv::new(&weight, Some(bias.narrow(0, channels, group_channels)?), 1, vb.conv_products())
            })
            .collect::<Result<_>>()?;
        Ok(Self { groups, padding: cfg.num_conv_pos_embeddings / 2 })
    }

    /// `[B, T, hidden]` to the `[B, T, hidden]` positional term.
    fn forward(&self, hidden: &Tensor) -> Result<Tensor> {
        let frames = hidden.dim(1)?;
        let padded = hidden.pad_with_zeros(1, self.padding, self.padding)?;
        let group_channels = hidden.dim(2)? / self.groups.len();
        let outputs = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, conv)| conv.forward(&padded.narrow(2, g * group_channels, group_channels)?))
            .collect::<Result<Vec<_>>>()?;
        // An even kernel with `padding = kernel / 2` yields one frame too many (`Wav2Vec2SamePadLayer`).
        kernels::gelu_erf(&Tensor::cat(&outputs, 2)?.narrow(1, 0, frames)?)
    }
}

/// The positional conv is trained with weight norm over dim 2: `w = g * v / ||v||`, the norm taken over
/// every dim but the kernel one. Checkpoints store it under one of three spellings; a plain `weight`
/// (already folded, as our converter writes it) is taken as is.
pub fn positional_conv_weight(cfg: &Config, vb: &WeightStore) -> Result<Tensor> {
    let hidden = cfg.hidden_size;
    let shape = (hidden, hidden / cfg.num_conv_pos_embedding_groups, cfg.num_conv_pos_embeddings);
    if vb.contains("weight") {
        return vb.get(shape, "weight");
    }
    let g_shape = (1, 1, shape.2);
    let (g, v) = if vb.contains("weight_g") {
        (vb.get(g_shape, "weight_g")?, vb.get(shape, "weight_v")?)
    } else {
        let vb = &vb.pp("parametrizations.weight");
        (vb.get(g_shape, "original0")?, vb.get(shape, "original1")?)
    };
    let norm = v.sqr()?.sum_keepdim(0)?.sum_keepdim(1)?.sqrt()?;
    v.broadcast_mul(&g.broadcast_div(&norm)?)
}

/// One utterance's context `[frames, hidden]` from its fused projections (`q | k | v` rows), frames,
/// heads, head size and the scores' scale: `kernels::bf16_attention` or `kernels::int8_attention`.
type AttentionKernel = fn(&[f32], usize, usize, usize, f32) -> Result<Vec<f32>>;

/// `Wav2Vec2Attention` without masking: one utterance at a time, so there is no padding to mask.
#[derive(Debug, Clone)]
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    num_heads: usize,
    head_dim: usize,
    /// How the two products run: as the feature encoder's convs (see [`WeightStore::conv_products`]).
    products: ConvProducts,
}

impl Attention {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let hidden = cfg.hidden_size;
        Ok(Self {
            q_proj: Linear::load(hidden, hidden, &vb.pp("q_proj"))?,
            k_proj: Linear::load(hidden, hidden, &vb.pp("k_proj"))?,
            v_proj: Linear::load(hidden, hidden, &vb.pp("v_proj"))?,
            out_proj: Linear::load(hidden, hidden, &vb.pp("out_proj"))?,
            num_heads: cfg.num_attention_heads,
            head_dim: hidden / cfg.num_attention_heads,
            products: vb.conv_products(),
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let projections = [&self.q_proj, &self.k_proj, &self.v_proj];
        // Side by side where that saves work: one int8 product quantizes the input once, and our
        // attention kernels read the fused rows in place. Elsewhere it would only add a copy.
        let kernel = match self.products {
            ConvProducts::Bf16 => Some(kernels::bf16_attention as AttentionKernel),
            ConvProducts::Int8 if kernels::int8_attention_takes(self.head_dim) => Some(kernels::int8_attention as AttentionKernel),
            _ => None,
        };
        let context = if kernel.is_some() || projections.iter().all(|p| p.is_int8()) {
            let qkv = Linear::forward_side_by_side(&projections, xs)?;
            let hidden = self.num_heads * self.head_dim;
            if let Some(kernel) = kernel {
                return self.out_proj.forward(&self.attend_fused(&qkv, kernel)?);
            }
            self.attend(&qkv.narrow(2, 0, hidden)?, &qkv.narrow(2, hidden, hidden)?, &qkv.narrow(2, 2 * hidden, hidden)?)?
        } else {
            self.attend(&self.q_proj.forward(xs)?, &self.k_proj.forward(xs)?, &self.v_proj.forward(xs)?)?
        };
        self.out_proj.forward(&context)
    }

    fn scale(&self) -> f64 {
        1.0 / (self.head_dim as f64).sqrt()
    }

    /// `softmax(q kᵀ / √head_dim) v` per head, from projections `[batch, frames, hidden]` to the
    /// context of the same shape.
    fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
        let (batch, frames, hidden) = q.dims3()?;
        let split_heads = |t: &Tensor| -> Result<Tensor> {
            t.reshape((batch, frames, self.num_heads, self.head_dim))?.transpose(1, 2)?.contiguous()
        };
        let (q, k, v) = ((split_heads(q)? * self.scale())?, split_heads(k)?, split_heads(v)?);
        // Heads on rayon's threads: in wasm candle's own f32 product runs on one thread (it sees one
        // core), so without this the threaded build left attention to a single core.
        let heads = (0..self.num_heads)
            .into_par_iter()
            .map(|head| {
                let [q, k, v] = [&q, &k, &v].map(|t| t.narrow(1, head, 1));
                kernels::softmax_last_dim(&q?.matmul(&k?.t()?)?)?.matmul(&v?)
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::cat(&heads, 1)?.transpose(1, 2)?.reshape((batch, frames, hidden))
    }

    /// [`Attention::attend`] through one of our kernels, from the fused projections `[batch, frames,
    /// q | k | v]`, one utterance at a time.
    fn attend_fused(&self, qkv: &Tensor, kernel: AttentionKernel) -> Result<Tensor> {
        let scale = self.scale() as f32;
        let (batch, frames, row) = qkv.dims3()?;
        let contexts = kernels::with_f32_values(qkv, |values| {
            (0..batch)
                .map(|b| {
                    let utterance = &values[b * frames * row..][..frames * row];
                    let context = kernel(utterance, frames, self.num_heads, self.head_dim, scale)?;
                    Tensor::from_vec(context, (1, frames, row / 3), qkv.device())
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Tensor::cat(&contexts, 0)
    }
}

/// `Wav2Vec2FeedForward`.
#[derive(Debug, Clone)]
struct FeedForward {
    intermediate_dense: Linear,
    output_dense: Linear,
    activation: Activation,
}

impl FeedForward {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        Ok(Self {
            intermediate_dense: Linear::load(cfg.hidden_size, cfg.intermediate_size, &vb.pp("intermediate_dense"))?,
            output_dense: Linear::load(cfg.intermediate_size, cfg.hidden_size, &vb.pp("output_dense"))?,
            activation: cfg.hidden_act,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = match self.activation {
            Activation::Gelu => self.intermediate_dense.forward_gelu(xs)?,
            other => activate(other, &self.intermediate_dense.forward(xs)?)?,
        };
        self.output_dense.forward(&xs)
    }
}

/// `Wav2Vec2AttnAdapterLayer`: MMS's per-language bottleneck, one per encoder layer.
#[derive(Debug, Clone)]
struct AttnAdapter {
    norm: LayerNorm,
    linear_1: Linear,
    linear_2: Linear,
}

impl AttnAdapter {
    fn load(cfg: &Config, adapter_dim: usize, vb: &WeightStore) -> Result<Self> {
        Ok(Self {
            norm: layer_norm(cfg.hidden_size, TORCH_NORM_EPS, &vb.pp("norm"))?,
            linear_1: Linear::load(cfg.hidden_size, adapter_dim, &vb.pp("linear_1"))?,
            linear_2: Linear::load(adapter_dim, cfg.hidden_size, &vb.pp("linear_2"))?,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = self.linear_1.forward(&self.norm.forward(xs)?)?.relu()?;
        self.linear_2.forward(&xs)
    }
}

/// `Wav2Vec2EncoderLayer` (post-LN) and `Wav2Vec2EncoderLayerStableLayerNorm` (pre-LN).
#[derive(Debug, Clone)]
struct EncoderLayer {
    attention: Attention,
    layer_norm: LayerNorm,
    feed_forward: FeedForward,
    final_layer_norm: LayerNorm,
    pre_norm: bool,
}

impl EncoderLayer {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let eps = cfg.layer_norm_eps;
        Ok(Self {
            attention: Attention::load(cfg, &vb.pp("attention"))?,
            layer_norm: layer_norm(cfg.hidden_size, eps, &vb.pp("layer_norm"))?,
            feed_forward: FeedForward::load(cfg, &vb.pp("feed_forward"))?,
            final_layer_norm: layer_norm(cfg.hidden_size, eps, &vb.pp("final_layer_norm"))?,
            pre_norm: cfg.do_stable_layer_norm,
        })
    }

    fn forward(&self, xs: &Tensor, adapter: Option<&AttnAdapter>) -> Result<Tensor> {
        if self.pre_norm {
            let xs = (xs + self.attention.forward(&self.layer_norm.forward(xs)?)?)?;
            let xs = (&xs + self.feed_forward.forward(&self.final_layer_norm.forward(&xs)?)?)?;
            match adapter {
                Some(adapter) => &xs + adapter.forward(&xs)?,
                None => Ok(xs),
            }
        } else {
            let xs = self.layer_norm.forward(&(xs + self.attention.forward(xs)?)?)?;
            self.final_layer_norm.forward(&(&xs + self.feed_forward.forward(&xs)?)?)
        }
    }
}

/// `Wav2Vec2Encoder` / `Wav2Vec2EncoderStableLayerNorm`.
#[derive(Debug, Clone)]
struct Encoder {
    pos_conv_embed: PositionalConvEmbedding,
    layer_norm: LayerNorm,
    layers: Vec<EncoderLayer>,
    pre_norm: bool,
}

impl Encoder {
    fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| EncoderLayer::load(cfg, &vb.pp(format!("layers.{i}"))))
            .collect::<Result<_>>()?;
        Ok(Self {
            pos_conv_embed: PositionalConvEmbedding::load(cfg, &vb.pp("pos_conv_embed"))?,
            layer_norm: layer_norm(cfg.hidden_size, cfg.layer_norm_eps, &vb.pp("layer_norm"))?,
            layers,
            pre_norm: cfg.do_stable_layer_norm,
        })
    }

    fn forward(&self, xs: &Tensor, adapters: &[AttnAdapter]) -> Result<Tensor> {
        let xs = (xs + self.pos_conv_embed.forward(xs)?)?;
        // Post-LN normalises the input once; pre-LN normalises the output once.
        let mut xs = if self.pre_norm { xs } else { self.layer_norm.forward(&xs)? };
        for (i, layer) in self.layers.iter().enumerate() {
            xs = layer.forward(&xs, adapters.get(i))?;
        }
        if self.pre_norm {
            self.layer_norm.forward(&xs)
        } else {
            Ok(xs)
        }
    }
}

/// The language-specific part of an MMS model: the adapters of every encoder layer (when the model
/// has them) and the CTC head. Swapping it switches the language without touching the base.
#[derive(Debug, Clone)]
pub struct LanguageHead {
    adapters: Vec<AttnAdapter>,
    lm_head: Linear,
}

impl LanguageHead {
    /// Loads from a store at the checkpoint root, where transformers' keys
    /// `wav2vec2.encoder.layers.N.adapter_layer.*` and `lm_head.*` live (in the base checkpoint or in
    /// an `adapter.<lang>.safetensors`). The vocabulary size is taken from the stored head.
    pub fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        let adapters = match cfg.adapter_attn_dim.filter(|_| cfg.has_adapters()) {
            Some(dim) => (0..cfg.num_hidden_layers)
                .map(|i| {
                    let prefix = format!("wav2vec2.encoder.layers.{i}.adapter_layer");
                    AttnAdapter::load(cfg, dim, &vb.pp(prefix))
                })
                .collect::<Result<_>>()?,
            None => Vec::new(),
        };
        // The head's rows are the vocabulary size; the shape check below holds it to `[rows, hidden]`.
        let vocab_size = match vb.pp("lm_head").dims("weight")?[..] {
            [rows, _] => rows,
            ref dims => candle_core::bail!("tensor lm_head.weight has shape {dims:?}; a CTC head is [vocabulary, hidden_size]"),
        };
        let lm_head = Linear::load(cfg.hidden_size, vocab_size, &vb.pp("lm_head"))?;
        Ok(Self { adapters, lm_head })
    }

    pub fn vocab_size(&self) -> usize {
        self.lm_head.out_dim()
    }
}

/// The language-independent base: conv feature encoder, projection and transformer encoder.
#[derive(Debug, Clone)]
pub struct Wav2Vec2 {
    feature_extractor: FeatureEncoder,
    feature_projection: FeatureProjection,
    encoder: Encoder,
}

impl Wav2Vec2 {
    /// Loads from a store at the `wav2vec2.` prefix of a `Wav2Vec2ForCTC` checkpoint.
    pub fn load(cfg: &Config, vb: &WeightStore) -> Result<Self> {
        Ok(Self {
            feature_extractor: FeatureEncoder::load(cfg, &vb.pp("feature_extractor"))?,
            feature_projection: FeatureProjection::load(cfg, &vb.pp("feature_projection"))?,
            encoder: Encoder::load(cfg, &vb.pp("encoder"))?,
        })
    }

    /// CTC logits `[B, frames, vocab]` for normalised samples `[B, S]`.
    pub fn forward(&self, samples: &Tensor, head: &LanguageHead) -> Result<Tensor> {
        let features = self.feature_extractor.forward(&samples.to_dtype(DType::F32)?)?;
        let hidden = self.feature_projection.forward(&features)?;
        let hidden = self.encoder.forward(&hidden, &head.adapters)?;
        head.lm_head.forward(&hidden)
    }
}

/// transformers' `Wav2Vec2FeatureExtractor(do_normalize=True)`: zero mean and unit variance per
/// utterance, `(x - mean) / sqrt(var + 1e-7)` with the population variance.
pub fn normalize_waveform(samples: &[f32]) -> Vec<f32> {
    let normalization = Normalization::of(samples);
    samples.iter().map(|&s| normalization.apply(s)).collect()
}

/// The utterance-wide statistics of [`normalize_waveform`], so long audio can be normalised chunk by
/// chunk without a normalised copy of all of it.
#[derive(Debug, Clone, Copy)]
pub struct Normalization {
    mean: f64,
    scale: f64,
}

impl Normalization {
    pub fn of(samples: &[f32]) -> Self {
        let n = samples.len().max(1) as f64;
        let mean = samples.iter().map(|&s| s as f64).sum::<f64>() / n;
        let var = samples.iter().map(|&s| (s as f64 - mean).powi(2)).sum::<f64>() / n;
        Self { mean, scale: 1.0 / (var + 1e-7).sqrt() }
    }

    pub fn apply(&self, sample: f32) -> f32 {
        ((sample as f64 - self.mean) * self.scale) as f32
    }
}

// Reads a fixture from disk, which the wasm test runners cannot.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    // candle's safetensors reader, not hf_dir's checked one: the fixture is ours, and the model
    // stays below the modules that load models.
    fn feature_encoder(fixture: &str) -> FeatureEncoder {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
        let config = Config::from_json(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &candle_core::Device::Cpu).unwrap();
        FeatureEncoder::load(&config, &WeightStore::from_float(tensors).pp("wav2vec2.feature_extractor")).unwrap()
    }

    #[test]
    fn the_feature_encoder_in_pieces_gives_the_whole_output() -> Result<()> {
        let encoder = feature_encoder("mms_adapter_in_base");
        assert_eq!(encoder.hop_and_receptive_field(), (320, 400), "MMS's conv stack");
        // three whole pieces and a short one, plus samples that make no frame
        for length in [3 * 100 * 320 + 400 + 57 * 320 + 211, 100 * 320 + 400] {
            let samples = Tensor::from_vec((0..length).map(|i| (i as f32 * 0.013).sin() * 0.3).collect::<Vec<_>>(), (1, length), &candle_core::Device::Cpu)?;
            let (pieces, whole) = (encoder.forward(&samples)?, encoder.forward_whole(&samples)?);
            assert_eq!(pieces.dims(), whole.dims());
            assert_eq!(pieces.flatten_all()?.to_vec1::<f32>()?, whole.flatten_all()?.to_vec1::<f32>()?, "{length} samples");
        }
        Ok(())
    }
}
