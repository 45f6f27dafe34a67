//! GGUF as packages use it: the header checked before candle reads it, and the metadata that
//! holds a base's config and a language's name and vocabulary.

use std::io::{Read, Seek, SeekFrom};

use candle_core::quantized::GgmlDType;

use super::tensors::GgufFile;
use crate::recognizer::Language;
use crate::vocab::Vocab;
use crate::wav2vec2::weights::checked_product;
use crate::wav2vec2::{Config, WeightStore};
use crate::Error;

/// GGUF metadata keys.
pub(crate) const META_FORMAT_VERSION: &str = "sakha_asr.format_version";
pub(crate) const META_CONFIG: &str = "sakha_asr.config";
pub(crate) const META_LANGUAGE: &str = "sakha_asr.language";
pub(crate) const META_VOCAB: &str = "sakha_asr.vocab";

/// The config and weights of a `base.gguf`.
pub(super) fn base_from_gguf(file: GgufFile, name: &str) -> Result<(Config, WeightStore), Error> {
    let config = Config::from_json(file.string(META_CONFIG, name)?.as_bytes())
        .map_err(|e| Error::invalid(name, META_CONFIG, e.why))?;
    Ok((config, file.weights))
}

/// The file must hold the language the manifest lists it under.
pub(super) fn language_from_gguf(config: &Config, file: GgufFile, name: &str, expected: &str) -> Result<Language, Error> {
    let language = file.string(META_LANGUAGE, name)?;
    if language != expected {
        return Err(Error::invalid(
            name,
            META_LANGUAGE,
            format!("the file holds language {language:?}, but the manifest lists it for {expected:?}"),
        ));
    }
    let table = serde_json::from_str(file.string(META_VOCAB, name)?)
        .map_err(|e| Error::invalid(name, META_VOCAB, format!("not a token table: {e}")))?;
    let vocab = Vocab::from_table(table).map_err(|e| Error::invalid(name, META_VOCAB, e.to_string()))?;
    Language::load(config, Some(language), &file.weights, vocab, name)
}

/// The tensor types our packages hold, by their GGUF ids (ggml.h's `ggml_type`).
const TENSOR_TYPES: [(u32, GgmlDType); 5] =
    [(0, GgmlDType::F32), (1, GgmlDType::F16), (2, GgmlDType::Q4_0), (8, GgmlDType::Q8_0), (12, GgmlDType::Q4K)];
/// Bounds far above what a package holds (MMS-1B: about 900 tensors, 4 metadata keys, no arrays),
/// which keep what candle's reader allocates for the header itself small.
const MAX_TENSORS: u64 = 1 << 16;
const MAX_METADATA: u64 = 1 << 12;
const MAX_ARRAY: u64 = 1 << 16;
const MAX_NAME_BYTES: u64 = 1 << 16;
const MAX_VALUE_DEPTH: u32 = 8;
/// What candle's reader takes when the metadata has no `general.alignment`.
const DEFAULT_ALIGNMENT: u64 = 32;

/// Where a checked GGUF header ends, and where the data its tensor offsets count from starts.
pub(super) struct Layout {
    pub(super) header_end: u64,
    pub(super) data_start: u64,
}

/// Walks a GGUF header (version 2 or 3, as candle writes them) of a `size`-byte file the way candle's
/// reader will, checking every count, length, alignment, shape and offset against the file first:
/// candle's reader divides by the alignment and multiplies dims unchecked. Tensors must lie in the
/// file without overlapping, so what is allocated for them is at most the file's size.
pub(super) fn check_gguf_header<R: Read + Seek>(reader: &mut R, size: u64, name: &str) -> Result<Layout, Error> {
    let mut header = HeaderReader { reader, file: name, size };
    if header.bytes::<4>("magic")? != *b"GGUF" {
        return Err(header.invalid("magic", "not a GGUF file"));
    }
    let version = header.u32("version")?;
    if !matches!(version, 2 | 3) {
        return Err(header.invalid("version", format!("GGUF version {version}; packages are GGUF 2 or 3")));
    }
    let tensor_count = header.count("tensor_count", MAX_TENSORS)?;
    let metadata_count = header.count("metadata_kv_count", MAX_METADATA)?;
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..metadata_count {
        let key = header.string("metadata key")?;
        let value_type = header.u32(&key)?;
        if key == "general.alignment" {
            alignment = header.alignment(value_type)?;
        } else {
            header.skip_value(value_type, &key, 0)?;
        }
    }
    let mut names = std::collections::HashSet::new();
    let mut tensors = Vec::new();
    for _ in 0..tensor_count {
        let tensor = header.string("tensor name")?;
        let (offset, bytes) = header.tensor_info(&tensor)?;
        if !names.insert(tensor.clone()) {
            return Err(header.invalid(tensor, "the file has two tensors of this name"));
        }
        tensors.push((offset, bytes, tensor));
    }
    let header_end = header.position()?;
    let data_start = header_end.div_ceil(alignment).saturating_mul(alignment);
    tensors.sort();
    let mut free_from = 0u64;
    for (offset, bytes, tensor) in tensors {
        if offset < free_from {
            return Err(header.invalid(tensor, format!("its data at offset {offset} overlaps the previous tensor's")));
        }
        let end = data_start.checked_add(offset).and_then(|start| start.checked_add(bytes));
        if end.is_none_or(|end| end > header.size) {
            return Err(header.invalid(
                tensor,
                format!("{bytes} bytes at offset {offset} after the header do not fit in the {}-byte file", header.size),
            ));
        }
        free_from = offset + bytes;
    }
    Ok(Layout { header_end, data_start })
}

/// Reads a GGUF header; every failure names the file and the field being read.
struct HeaderReader<'a, R> {
    reader: &'a mut R,
    file: &'a str,
    size: u64,
}

impl<R: Read + Seek> HeaderReader<'_, R> {
    fn invalid(&self, field: impl Into<String>, why: impl Into<String>) -> Error {
        Error::invalid(self.file, field, why)
    }

    fn truncated(&self, field: &str) -> Error {
        self.invalid(field, "the file ends inside its header (truncated or not a GGUF file)")
    }

    fn position(&mut self) -> Result<u64, Error> {
        self.reader.stream_position().map_err(|e| Error::invalid(self.file, "header", e.to_string()))
    }

    fn bytes<const N: usize>(&mut self, field: &str) -> Result<[u8; N], Error> {
        let mut bytes = [0; N];
        self.reader.read_exact(&mut bytes).map_err(|_| self.truncated(field))?;
        Ok(bytes)
    }

    fn u32(&mut self, field: &str) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.bytes(field)?))
    }

    fn u64(&mut self, field: &str) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.bytes(field)?))
    }

    fn count(&mut self, field: &str, max: u64) -> Result<u64, Error> {
        let count = self.u64(field)?;
        if count > max {
            return Err(self.invalid(field, format!("{count} is more than a model package has (at most {max})")));
        }
        Ok(count)
    }

    /// Moves past `bytes` bytes of the header, which must be in the file.
    fn skip(&mut self, bytes: u64, field: &str) -> Result<(), Error> {
        let end = self.position()?.checked_add(bytes);
        if end.is_none_or(|end| end > self.size) {
            return Err(self.truncated(field));
        }
        let offset = i64::try_from(bytes).map_err(|_| self.truncated(field))?;
        self.reader.seek(SeekFrom::Current(offset)).map_err(|_| self.truncated(field))?;
        Ok(())
    }

    fn string_length(&mut self, field: &str, max: u64) -> Result<u64, Error> {
        let length = self.u64(field)?;
        if length > max {
            return Err(self.invalid(field, format!("a string of {length} bytes is longer than the file allows")));
        }
        Ok(length)
    }

    /// A key or tensor name, read only after its length is checked.
    fn string(&mut self, field: &str) -> Result<String, Error> {
        let length = self.string_length(field, MAX_NAME_BYTES)?;
        if self.position()? + length > self.size {
            return Err(self.truncated(field));
        }
        let mut bytes = vec![0; length as usize];
        self.reader.read_exact(&mut bytes).map_err(|_| self.truncated(field))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `general.alignment`, which candle's reader divides by: a power of two, in one of the integer
    /// types candle's reader honours (it would silently use 32 for others).
    fn alignment(&mut self, value_type: u32) -> Result<u64, Error> {
        const FIELD: &str = "general.alignment";
        let value: i64 = match value_type {
            0 => u8::from_le_bytes(self.bytes(FIELD)?).into(),
            1 => i8::from_le_bytes(self.bytes(FIELD)?).into(),
            2 => u16::from_le_bytes(self.bytes(FIELD)?).into(),
            3 => i16::from_le_bytes(self.bytes(FIELD)?).into(),
            4 => u32::from_le_bytes(self.bytes(FIELD)?).into(),
            5 => i32::from_le_bytes(self.bytes(FIELD)?).into(),
            other => return Err(self.invalid(FIELD, format!("stored as GGUF type {other}; it must be a 32-bit integer"))),
        };
        match u64::try_from(value) {
            Ok(alignment) if alignment.is_power_of_two() => Ok(alignment),
            _ => Err(self.invalid(FIELD, format!("{value}; it must be a power of two (1, 2, 4, ... 32)"))),
        }
    }

    fn skip_value(&mut self, value_type: u32, field: &str, depth: u32) -> Result<(), Error> {
        match value_type {
            0 | 1 | 7 => self.skip(1, field),
            2 | 3 => self.skip(2, field),
            4..=6 => self.skip(4, field),
            10..=12 => self.skip(8, field),
            8 => {
                let length = self.string_length(field, self.size)?;
                self.skip(length, field)
            }
            9 if depth < MAX_VALUE_DEPTH => {
                let element_type = self.u32(field)?;
                let length = self.u64(field)?;
                if length > MAX_ARRAY {
                    return Err(self.invalid(field, format!("an array of {length} values is more than a package has (at most {MAX_ARRAY})")));
                }
                (0..length).try_for_each(|_| self.skip_value(element_type, field, depth + 1))
            }
            9 => Err(self.invalid(field, format!("arrays nested more than {MAX_VALUE_DEPTH} deep"))),
            other => Err(self.invalid(field, format!("unknown GGUF value type {other}"))),
        }
    }

    /// Checks one tensor's dims, type and size; returns its offset from the data start and its bytes.
    fn tensor_info(&mut self, tensor: &str) -> Result<(u64, u64), Error> {
        let rank = self.u32(tensor)?;
        if !(1..=4).contains(&rank) {
            return Err(self.invalid(tensor, format!("{rank} dimensions; tensors have 1 to 4")));
        }
        // GGUF lists the innermost dimension first, the one quantization blocks run along.
        let dims = (0..rank).map(|_| self.u64(tensor)).collect::<Result<Vec<_>, _>>()?;
        let type_id = self.u32(tensor)?;
        let Some(&(_, dtype)) = TENSOR_TYPES.iter().find(|(id, _)| *id == type_id) else {
            return Err(self.invalid(tensor, format!("GGUF tensor type {type_id}; packages hold f32, f16, q8_0, q4_0 and q4_k")));
        };
        let offset = self.u64(tensor)?;
        let block = dtype.block_size() as u64;
        if dims.contains(&0) || dims[0] % block != 0 {
            return Err(self.invalid(
                tensor,
                format!("dims {dims:?} (innermost first): none may be 0, and the first must be a multiple of {dtype:?}'s block of {block}"),
            ));
        }
        // candle counts elements in a usize: 32 bits in wasm.
        let elements = checked_product(dims.iter().copied()).filter(|&elements| usize::try_from(elements).is_ok());
        let bytes = elements.and_then(|elements| (elements / block).checked_mul(dtype.type_size() as u64));
        match bytes {
            Some(bytes) if bytes <= self.size => Ok((offset, bytes)),
            _ => Err(self.invalid(tensor, format!("dims {dims:?} need more bytes than the {}-byte file has", self.size))),
        }
    }
}
