//! A GGUF file's data section turned into tensors as its bytes arrive.

use std::collections::{HashMap, VecDeque};

use candle_core::quantized::{gguf_file, ggml_file, GgmlDType};
use candle_core::Device;

use crate::wav2vec2::weights::WeightStoreBuilder;
use crate::wav2vec2::WeightStore;
use crate::Error;

/// A GGUF file's metadata and tensors.
pub(super) struct GgufFile {
    pub(super) metadata: HashMap<String, gguf_file::Value>,
    pub(super) weights: WeightStore,
}

impl GgufFile {
    pub(super) fn string(&self, key: &str, name: &str) -> Result<&str, Error> {
        let value = self.metadata.get(key).and_then(|v| v.to_string().ok());
        value.map(String::as_str).ok_or_else(|| Error::Package(format!("{name}: no {key} in the metadata")))
    }
}

struct PendingTensor {
    name: String,
    /// Where its data starts in the file.
    start: u64,
    bytes: usize,
    dtype: GgmlDType,
    dims: Vec<usize>,
}

/// Turns a GGUF file's data section into tensors as it arrives: the tensors come in offset order
/// (checked not to overlap), so only the one being filled is held as raw bytes.
pub(super) struct TensorFiller {
    metadata: HashMap<String, gguf_file::Value>,
    pending: VecDeque<PendingTensor>,
    /// The file position of the next byte pushed.
    position: u64,
    /// The raw bytes of `pending`'s first tensor so far.
    filling: Vec<u8>,
    weights: WeightStoreBuilder,
}

impl TensorFiller {
    /// The filler for a file whose checked header (`content`) ends at `header_end`; its tensor
    /// offsets count from `data_start`.
    pub(super) fn new(content: gguf_file::Content, data_start: u64, header_end: u64) -> Box<Self> {
        let mut pending: Vec<PendingTensor> = content
            .tensor_infos
            .into_iter()
            .map(|(name, info)| PendingTensor {
                start: data_start + info.offset,
                // check_gguf_header bounded every tensor by the file's size and usize.
                bytes: info.shape.elem_count() / info.ggml_dtype.block_size() * info.ggml_dtype.type_size(),
                dtype: info.ggml_dtype,
                dims: info.shape.dims().to_vec(),
                name,
            })
            .collect();
        pending.sort_by_key(|tensor| tensor.start);
        Box::new(TensorFiller {
            metadata: content.metadata,
            pending: pending.into(),
            position: header_end,
            filling: Vec::new(),
            weights: WeightStoreBuilder::new(),
        })
    }

    pub(super) fn push(&mut self, mut chunk: &[u8], name: &str) -> Result<(), Error> {
        while !chunk.is_empty() {
            let Some(tensor) = self.pending.front() else {
                // Bytes after the last tensor's data belong to no tensor.
                self.position += chunk.len() as u64;
                return Ok(());
            };
            // Padding before the tensor's data.
            let gap = tensor.start.saturating_sub(self.position).min(chunk.len() as u64) as usize;
            let take = (tensor.bytes - self.filling.len()).min(chunk.len() - gap);
            if take > 0 && self.filling.is_empty() {
                self.filling.reserve_exact(tensor.bytes);
            }
            self.filling.extend_from_slice(&chunk[gap..gap + take]);
            chunk = &chunk[gap + take..];
            self.position += (gap + take) as u64;
            if self.filling.len() < tensor.bytes {
                continue;
            }
            if let Some(tensor) = self.pending.pop_front() {
                // A fresh allocation, aligned for candle's block types (a chunk's slice may not be).
                let raw = std::mem::take(&mut self.filling);
                let qtensor = ggml_file::qtensor_from_ggml(tensor.dtype, &raw, tensor.dims, &Device::Cpu);
                drop(raw);
                let added = qtensor.and_then(|qtensor| self.weights.add(tensor.name, qtensor));
                added.map_err(Error::weights(name))?;
            }
        }
        Ok(())
    }

    pub(super) fn finish(self, name: &str) -> Result<GgufFile, Error> {
        if let Some(tensor) = self.pending.front() {
            return Err(Error::invalid(name, &tensor.name, "the file ends before this tensor's data does"));
        }
        Ok(GgufFile { metadata: self.metadata, weights: self.weights.finish() })
    }
}
