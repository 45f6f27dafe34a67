//! Where layers get their tensors: an HF safetensors checkpoint (all float) or one of our GGUF
//! packages (matrices quantized, the rest float), addressed by transformers' names either way. One
//! model definition serves both: matrices become [`Linear`] layers over candle's `QMatMul`, which
//! holds either a float tensor or a quantized one, or, for q8_0, q4_0 and q4_k matrices where we have
//! an int8 kernel (x86 AVX-512 VNNI, wasm SIMD: see `kernels/mod.rs`), over ours.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Result, Shape, Tensor};

use super::kernels::{self, Bf16Matrix, Int8Matrix};

#[derive(Debug, Default)]
struct Tensors {
    float: HashMap<String, Tensor>,
    quantized: HashMap<String, Arc<QTensor>>,
    /// q8_0, q4_0 and q4_k matrices already packed for our int8 kernel (their GGUF copies are not kept).
    int8: HashMap<String, Arc<Int8Matrix>>,
    /// Whether some matrix is stored in 8 bits or fewer (q8_0, q4_k, ...), not f32 or f16.
    low_bit: bool,
}

/// A set of named tensors plus a name prefix, in the manner of candle's `VarBuilder`.
#[derive(Debug, Clone)]
pub struct WeightStore {
    tensors: Arc<Tensors>,
    prefix: String,
}

impl WeightStore {
    /// Float tensors, as read from a safetensors file; converted to f32 when used.
    pub fn from_float(tensors: HashMap<String, Tensor>) -> Self {
        Self::new(Tensors { float: tensors, ..Default::default() })
    }

    /// Tensors read from GGUF, one at a time (see [`WeightStoreBuilder`]).
    pub fn from_quantized(tensors: impl IntoIterator<Item = Result<(String, QTensor)>>) -> Result<Self> {
        let mut builder = WeightStoreBuilder::default();
        for named in tensors {
            let (name, tensor) = named?;
            builder.add(name, tensor)?;
        }
        Ok(builder.finish())
    }

    fn new(tensors: Tensors) -> Self {
        Self { tensors: Arc::new(tensors), prefix: String::new() }
    }

    /// The same tensors seen from `prefix.name`.
    pub fn pp(&self, name: impl AsRef<str>) -> Self {
        Self { tensors: self.tensors.clone(), prefix: self.path(name.as_ref()) }
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        let path = self.path(name);
        self.tensors.float.contains_key(&path) || self.tensors.quantized.contains_key(&path) || self.tensors.int8.contains_key(&path)
    }

    /// How the float layers' matrix products compute (the conv stack after its first layer and the
    /// positional conv; attention too where bf16). For models whose matrices are quantized to 8 bits
    /// or fewer: in bf16 where the CPU has our bf16 kernel, whose rounding is far below the quantized
    /// matrices' (measured in BENCHMARKS.md); else the convs in int8 where there is our int8 kernel
    /// (wasm, where candle's f32 product would be most of what is left once the matrices run in
    /// int8). f32 and f16 models keep f32 products, so their outputs stay those of the reference.
    pub fn conv_products(&self) -> ConvProducts {
        if !self.tensors.low_bit {
            ConvProducts::F32
        } else if Bf16Matrix::available() {
            ConvProducts::Bf16
        } else if Int8Matrix::available() {
            ConvProducts::Int8
        } else {
            ConvProducts::F32
        }
    }

    /// Every full tensor name in the store, whatever the prefix.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.tensors.float.keys().chain(self.tensors.quantized.keys()).chain(self.tensors.int8.keys())
    }

    /// The stored shape of a tensor, without converting it.
    pub fn dims(&self, name: &str) -> Result<Vec<usize>> {
        let path = self.path(name);
        if let Some(tensor) = self.tensors.float.get(&path) {
            return Ok(tensor.dims().to_vec());
        }
        if let Some(matrix) = self.tensors.int8.get(&path) {
            return Ok(matrix.shape().to_vec());
        }
        match self.tensors.quantized.get(&path) {
            Some(tensor) => Ok(tensor.shape().dims().to_vec()),
            None => candle_core::bail!("missing tensor {path}"),
        }
    }

    /// A tensor as f32 (dequantized when stored quantized), of any shape.
    pub fn get_any(&self, name: &str) -> Result<Tensor> {
        let path = self.path(name);
        if let Some(tensor) = self.tensors.float.get(&path) {
            return tensor.to_dtype(DType::F32);
        }
        match self.tensors.quantized.get(&path) {
            Some(tensor) => tensor.dequantize(&Device::Cpu),
            None => candle_core::bail!("missing tensor {path}"),
        }
    }

    /// A tensor as f32, checked against the shape the config implies before it is converted.
    pub fn get<S: Into<Shape>>(&self, shape: S, name: &str) -> Result<Tensor> {
        check_shape(&self.path(name), &self.dims(name)?, shape.into().dims())?;
        self.get_any(name)
    }

    /// Rows `rows` (along the first dimension) of a tensor as f32, the whole checked against the
    /// shape the config implies. Where it is stored in f16, only those rows are converted, so a wide
    /// tensor taken a slice at a time never exists whole in f32: in wasm the memory that loading
    /// peaks at is never given back.
    pub fn get_rows<S: Into<Shape>>(&self, shape: S, name: &str, rows: Range<usize>) -> Result<Tensor> {
        let shape: Shape = shape.into();
        let path = self.path(name);
        check_shape(&path, &self.dims(name)?, shape.dims())?;
        let count = rows.len();
        let row_shape = std::iter::once(count).chain(shape.dims()[1..].iter().copied()).collect::<Vec<_>>();
        match self.tensors.quantized.get(&path) {
            Some(tensor) if tensor.dtype() == GgmlDType::F16 && rows.end <= shape.dims()[0] => {
                let row_values = shape.elem_count() / shape.dims()[0];
                let bytes = tensor.data()?;
                let values = bytes[rows.start * row_values * 2..rows.end * row_values * 2]
                    .chunks_exact(2)
                    .map(|pair| half::f16::from_le_bytes([pair[0], pair[1]]).to_f32())
                    .collect::<Vec<_>>();
                Tensor::from_vec(values, row_shape, &Device::Cpu)
            }
            _ => self.get_any(name)?.narrow(0, rows.start, count),
        }
    }

    /// The weight and bias of a linear layer, the `[out, in]` weight kept quantized when stored so.
    fn linear_parts(&self, out_dim: usize, in_dim: usize) -> Result<LinearParts> {
        let bias = self.get(out_dim, "bias")?;
        let path = self.path("weight");
        if let Some(matrix) = self.tensors.int8.get(&path) {
            check_shape(&path, &matrix.shape(), &[out_dim, in_dim])?;
            return Ok(LinearParts::Int8 { matrix: matrix.clone(), bias: bias.to_vec1()? });
        }
        let weight = match self.tensors.quantized.get(&path) {
            Some(tensor) if tensor.dtype().block_size() > 1 => {
                check_shape(&path, tensor.shape().dims(), &[out_dim, in_dim])?;
                QMatMul::from_arc(tensor.clone())?
            }
            _ => QMatMul::Tensor(self.get((out_dim, in_dim), "weight")?),
        };
        Ok(LinearParts::Candle { weight, bias })
    }
}

fn check_shape(path: &str, stored: &[usize], implied: &[usize]) -> Result<()> {
    if stored != implied {
        candle_core::bail!("tensor {path} has shape {stored:?} but the config implies {implied:?}")
    }
    Ok(())
}

/// See [`WeightStore::conv_products`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvProducts {
    F32,
    Bf16,
    Int8,
}

#[derive(Debug, Clone)]
enum LinearParts {
    /// candle's matmul over a float or quantized weight.
    Candle { weight: QMatMul, bias: Tensor },
    /// A q8_0 or q4 weight packed for our int8 kernel, which adds the bias itself.
    Int8 { matrix: Arc<Int8Matrix>, bias: Vec<f32> },
}

/// A linear layer whose weight may be quantized; `y = x Wᵀ + b` as `torch.nn.Linear`.
#[derive(Debug, Clone)]
pub struct Linear {
    parts: LinearParts,
    out_dim: usize,
}

impl Linear {
    pub fn load(in_dim: usize, out_dim: usize, store: &WeightStore) -> Result<Self> {
        Ok(Self { parts: store.linear_parts(out_dim, in_dim)?, out_dim })
    }

    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// Whether our int8 kernel runs this layer.
    pub fn is_int8(&self) -> bool {
        matches!(self.parts, LinearParts::Int8 { .. })
    }

    /// `gelu(self.forward(xs))` with exact GELU, fused into the int8 kernel where this layer has one.
    pub fn forward_gelu(&self, xs: &Tensor) -> Result<Tensor> {
        match &self.parts {
            LinearParts::Int8 { matrix, bias } => matrix.forward_gelu(xs, bias),
            LinearParts::Candle { .. } => kernels::gelu_erf(&self.forward(xs)?),
        }
    }

    /// The outputs of `layers`, which share their input size, side by side in the last dimension:
    /// as concatenating their forwards, but where all are int8 the input is quantized once for all.
    pub fn forward_side_by_side(layers: &[&Linear], xs: &Tensor) -> Result<Tensor> {
        let int8 = layers
            .iter()
            .map(|layer| match &layer.parts {
                LinearParts::Int8 { matrix, bias } => Some((matrix.as_ref(), bias.as_slice())),
                LinearParts::Candle { .. } => None,
            })
            .collect::<Option<Vec<_>>>();
        if let Some(parts) = int8 {
            return kernels::int8_side_by_side(&parts, xs);
        }
        let outputs = layers.iter().map(|layer| layer.forward(xs)).collect::<Result<Vec<_>>>()?;
        Tensor::cat(&outputs, candle_core::D::Minus1)
    }
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match &self.parts {
            LinearParts::Candle { weight, bias } => weight.forward(xs)?.broadcast_add(bias),
            LinearParts::Int8 { matrix, bias } => matrix.forward(xs, bias),
        }
    }
}

/// Collects tensors one at a time into a [`WeightStore`], for readers that get them as a file
/// arrives: f32 ones are kept as plain tensors, q8_0 and q4 matrices our int8 kernel can take are
/// packed for it at once (so the file's copy of the weights and the packed one never both exist in
/// full), other types are kept as stored.
#[derive(Debug, Default)]
pub struct WeightStoreBuilder {
    tensors: Tensors,
}

impl WeightStoreBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: String, tensor: QTensor) -> Result<()> {
        let store = &mut self.tensors;
        store.low_bit |= tensor.dtype().block_size() > 1;
        if tensor.dtype() == candle_core::quantized::GgmlDType::F32 {
            store.float.insert(name, tensor.dequantize(&Device::Cpu)?);
        } else if Int8Matrix::takes(&tensor) {
            store.int8.insert(name, Arc::new(Int8Matrix::from_gguf(&tensor)?));
        } else {
            store.quantized.insert(name, Arc::new(tensor));
        }
        Ok(())
    }

    pub fn finish(self) -> WeightStore {
        WeightStore::new(self.tensors)
    }
}

/// The number of elements of a tensor with these dims, `None` where the product overflows: for
/// sizes read from files (GGUF and safetensors headers), which must not wrap in release builds.
pub(crate) fn checked_product(dims: impl IntoIterator<Item = u64>) -> Option<u64> {
    dims.into_iter().try_fold(1u64, |product, dim| product.checked_mul(dim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_those_of_the_whole_tensor_however_stored() -> Result<()> {
        let values = (0..4 * 3 * 5).map(|i| i as f32 * 0.25 - 7.0).collect::<Vec<_>>();
        let tensor = Tensor::from_vec(values, (4, 3, 5), &Device::Cpu)?;
        // f16 (a package's convs), f32 kept as a float tensor, and q8_0 (dequantized whole)
        let stored = [GgmlDType::F16, GgmlDType::F32].map(|dtype| QTensor::quantize(&tensor, dtype));
        let q8 = QTensor::quantize(&tensor.reshape((4, 15))?.pad_with_zeros(1, 0, 17)?, GgmlDType::Q8_0)?;
        let [f16, f32] = stored;
        let store = WeightStore::from_quantized([Ok(("f16".to_string(), f16?)), Ok(("f32".to_string(), f32?)), Ok(("q8".to_string(), q8))])?;
        for (name, shape) in [("f16", vec![4, 3, 5]), ("f32", vec![4, 3, 5]), ("q8", vec![4, 32])] {
            let whole = store.get(shape.as_slice(), name)?;
            let rows = store.get_rows(shape.as_slice(), name, 1..3)?;
            assert_eq!(rows.dims()[0], 2, "{name}");
            let expected = whole.narrow(0, 1, 2)?.flatten_all()?.to_vec1::<f32>()?;
            assert_eq!(rows.flatten_all()?.to_vec1::<f32>()?, expected, "{name}");
        }
        assert!(store.get_rows((4, 3, 6), "f16", 0..1).is_err(), "a shape the config does not imply");
        assert!(store.get_rows((4, 3, 5), "f16", 3..5).is_err(), "rows past the end");
        Ok(())
    }
}
