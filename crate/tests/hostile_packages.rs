//! Packages that lie: a manifest whose sizes and sha256 match its files says nothing about what the
//! files hold, since anyone can serve a package at a `?model=` URL. Each class of lie is crafted here
//! from the built-in package and must be refused with an error naming the file and the field, both
//! where the CLI loads a package (a folder) and where the browser does (bytes), never with a panic,
//! a division by zero or an allocation sized by the lie.

use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use sakha_asr::package::{self, FileEntry, FileLoader, LoadedFile, Manifest, PackageDir, MANIFEST_FILE};
use sakha_asr::Error;
use serde_json::json;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/default");
const BASE: &str = "base.gguf";
const LANGUAGE: &str = "sah.gguf";

fn model_file(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(MODEL).join(name)).unwrap()
}

/// A copy of the built-in package to lie with.
struct Package {
    dir: tempfile::TempDir,
}

impl Package {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for file in std::fs::read_dir(MODEL).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), dir.path().join(file.file_name())).unwrap();
        }
        Self { dir }
    }

    fn manifest(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.dir.path().join(MANIFEST_FILE)).unwrap()).unwrap()
    }

    fn patch_manifest(&self, patch: impl FnOnce(&mut serde_json::Value)) -> &Self {
        let mut manifest = self.manifest();
        patch(&mut manifest);
        std::fs::write(self.dir.path().join(MANIFEST_FILE), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
        self
    }

    /// Lists the language file under another name, the default language.
    fn list_language_as(&self, name: &str) -> &Self {
        self.patch_manifest(|manifest| {
            let entry = manifest["languages"]["sah"].take();
            manifest["languages"] = json!({ name: entry });
            manifest["default_language"] = name.into();
            // Its word LM goes with it.
            if let Some(models) = manifest.get_mut("language_models") {
                let lm = models["sah"].take();
                *models = json!({ name: lm });
            }
        })
    }

    /// Replaces one of the package's files and makes its manifest entry match: size and sha256 right.
    fn replace(&self, file: &str, bytes: &[u8]) -> &Self {
        std::fs::write(self.dir.path().join(file), bytes).unwrap();
        self.patch_manifest(|manifest| {
            let entry = if file == BASE { &mut manifest["base"] } else { &mut manifest["languages"]["sah"] };
            entry["bytes"] = bytes.len().into();
            entry["sha256"] = package::sha256_hex(bytes).into();
        })
    }

    /// The error of loading the package from its folder (the CLI's way), checked to be the same as
    /// that of loading it from bytes and from bytes arriving one at a time (the browser's ways).
    fn error(&self) -> Error {
        let dir = self.dir.path();
        let from_dir = match PackageDir::open(dir).and_then(|package| package.load(None)) {
            Ok(_) => panic!("a lying package loaded"),
            Err(e) => e,
        };
        let read = |file: &str| std::fs::read(dir.join(file)).unwrap();
        let from_bytes = Manifest::from_json(&read(MANIFEST_FILE))
            .and_then(|manifest| package::recognizer_from_bytes(&manifest, &read(BASE), &read(LANGUAGE), None, None));
        let streamed = Manifest::from_json(&read(MANIFEST_FILE)).and_then(|manifest| {
            let (language, entry) = manifest.language_entry(None)?;
            let base = byte_by_byte(&manifest.base, &read(BASE))?;
            package::recognizer_from_files(base, byte_by_byte(entry, &read(LANGUAGE))?, language)
        });
        for (way, result) in [("from bytes", from_bytes), ("byte by byte", streamed)] {
            match result {
                Ok(_) => panic!("a lying package loaded {way}"),
                // Only the first lines: candle appends a backtrace when RUST_BACKTRACE is set.
                Err(e) => assert_eq!(e.to_string().lines().next(), from_dir.to_string().lines().next(), "{way}"),
            }
        }
        from_dir
    }
}

fn byte_by_byte(entry: &FileEntry, bytes: &[u8]) -> Result<LoadedFile, Error> {
    let mut loader = FileLoader::new(entry);
    bytes.chunks(1).for_each(|byte| loader.push(byte));
    loader.finish()
}

/// Asserts a typed error naming `file` and `field`, whose reason contains `why`.
#[track_caller]
fn assert_invalid(error: Error, file: &str, field: &str, why: &str) {
    match &error {
        Error::InvalidModel { file: f, field: fd, why: w } if f == file && fd == field && w.contains(why) => {}
        _ => panic!("expected {file}: {field}: ...{why}..., got {error:?}"),
    }
}

type Metadata = Vec<(String, Value)>;
type Tensors = Vec<(String, QTensor)>;

/// A GGUF file's metadata and tensors, read with candle.
fn gguf_parts(bytes: &[u8]) -> (Metadata, Tensors) {
    let mut reader = std::io::Cursor::new(bytes);
    let content = gguf_file::Content::read(&mut reader).unwrap();
    let mut tensors: Tensors = content
        .tensor_infos
        .keys()
        .map(|name| (name.clone(), content.tensor(&mut reader, name, &Device::Cpu).unwrap()))
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut metadata: Metadata = content.metadata.into_iter().collect();
    metadata.sort_by(|a, b| a.0.cmp(&b.0));
    (metadata, tensors)
}

fn gguf_bytes(metadata: &[(String, Value)], tensors: &[(String, QTensor)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    gguf_file::write(&mut out, &metadata, &tensors).unwrap();
    out.into_inner()
}

/// One of the built-in files with a metadata value set (added when missing).
fn with_metadata(file: &str, key: &str, value: Value) -> Vec<u8> {
    let (mut metadata, tensors) = gguf_parts(&model_file(file));
    metadata.retain(|(k, _)| k != key);
    metadata.push((key.to_string(), value));
    gguf_bytes(&metadata, &tensors)
}

fn metadata_string(file: &str, key: &str) -> String {
    let (metadata, _) = gguf_parts(&model_file(file));
    metadata.into_iter().find(|(k, _)| k == key).unwrap().1.to_string().unwrap().clone()
}

/// base.gguf with its config.json patched.
fn with_config(patch: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut config: serde_json::Value = serde_json::from_str(&metadata_string(BASE, "sakha_asr.config")).unwrap();
    patch(&mut config);
    with_metadata(BASE, "sakha_asr.config", Value::String(config.to_string()))
}

#[test]
fn the_untouched_copy_loads() {
    let package = Package::new();
    let manifest = package.manifest();
    package.replace(BASE, &model_file(BASE)).replace(LANGUAGE, &model_file(LANGUAGE));
    assert_eq!(package.manifest(), manifest);
    PackageDir::open(package.dir.path()).unwrap().load(None).unwrap();
}

#[test]
fn config_values_that_divide_by_zero_overflow_or_size_absurdly_are_refused() {
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("conv_stride", json!([5, 2, 0, 2, 2, 2, 2]), "conv_stride[2] is 0"),
        ("conv_kernel", json!([0, 3, 3, 3, 3, 2, 2]), "conv_kernel[0] is 0"),
        ("conv_dim", json!([64, 0, 128, 128, 128, 128, 128]), "conv_dim[1] is 0"),
        ("conv_stride", json!([5, 2, 2]), "equal length"),
        ("conv_stride", json!([1000, 1000, 1000, 1000, 1000, 1000, 1000]), "longer than a second"),
        ("conv_kernel", json!([10, 3, 3, 3, 3, 2, 70000]), "conv_kernel[6] is 70000"),
        ("conv_kernel", json!([10, 3, 3, 3, 3, 2, 60000]), "more than a second of audio"),
        ("num_attention_heads", json!(0), "num_attention_heads is 0"),
        ("num_attention_heads", json!(3), "multiple of num_attention_heads"),
        ("num_conv_pos_embeddings", json!(0), "num_conv_pos_embeddings is 0"),
        ("num_conv_pos_embedding_groups", json!(0), "num_conv_pos_embedding_groups is 0"),
        ("vocab_size", json!(0), "vocab_size is 0"),
        ("hidden_size", json!(0), "hidden_size is 0"),
        ("intermediate_size", json!(0), "intermediate_size is 0"),
        ("num_hidden_layers", json!(0), "num_hidden_layers is 0"),
        ("adapter_attn_dim", json!(0), "adapter_attn_dim is 0"),
        ("layer_norm_eps", json!(-1.0), "layer_norm_eps is -1"),
        // Huge but consistent: every size a multiple of what divides it.
        ("hidden_size", json!(1_000_000_000u64), "hidden_size is 1000000000"),
        ("num_hidden_layers", json!(1u64 << 40), "num_hidden_layers is 1099511627776"),
    ];
    for (field, value, why) in cases {
        let base = with_config(|config| config[field] = value.clone());
        let error = Package::new().replace(BASE, &base).error();
        assert_invalid(error, BASE, "sakha_asr.config", why);
    }
}

#[test]
fn a_config_within_bounds_but_larger_than_its_tensors_is_a_shape_error() {
    let base = with_config(|config| {
        config["hidden_size"] = 4096.into();
        config["intermediate_size"] = 16384.into();
    });
    let message = Package::new().replace(BASE, &base).error().to_string();
    assert!(message.contains("has shape") && message.contains("config implies [4096"), "{message}");
}

#[test]
fn base_tensors_must_have_the_shapes_the_config_implies() {
    let base = with_config(|config| config["conv_dim"][0] = 32.into());
    let message = Package::new().replace(BASE, &base).error().to_string();
    let expected = "base.gguf: tensor wav2vec2.feature_extractor.conv_layers.0.conv.weight has shape [64, 1, 10] but \
                    the config implies [32, 1, 10]";
    assert!(message.starts_with(expected), "{message}");
}

#[test]
fn a_gguf_alignment_that_is_not_a_power_of_two_is_refused_before_candle_divides_by_it() {
    for (value, why) in [
        (Value::U32(0), "0; it must be a power of two"),
        (Value::U32(24), "24; it must be a power of two"),
        (Value::I32(-32), "-32; it must be a power of two"),
        (Value::U64(32), "it must be a 32-bit integer"),
    ] {
        let error = Package::new().replace(BASE, &with_metadata(BASE, "general.alignment", value)).error();
        assert_invalid(error, BASE, "general.alignment", why);
    }
    // A language file is read the same way.
    let language = with_metadata(LANGUAGE, "general.alignment", Value::U8(0));
    assert_invalid(Package::new().replace(LANGUAGE, &language).error(), LANGUAGE, "general.alignment", "power of two");
}

/// A GGUF header written byte by byte, to say what candle's writer never would.
#[derive(Default)]
struct RawGguf {
    bytes: Vec<u8>,
}

impl RawGguf {
    fn header(version: u32, tensors: u64, metadata: u64) -> Self {
        let mut raw = Self::default();
        raw.bytes.extend(b"GGUF");
        raw.u32(version).u64(tensors).u64(metadata);
        raw
    }

    fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes.extend(v.to_le_bytes());
        self
    }

    fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes.extend(v.to_le_bytes());
        self
    }

    fn string(&mut self, s: &str) -> &mut Self {
        self.u64(s.len() as u64);
        self.bytes.extend(s.as_bytes());
        self
    }

    /// A string metadata entry.
    fn meta(&mut self, key: &str, value: &str) -> &mut Self {
        self.string(key).u32(8).string(value)
    }

    /// A tensor info: dims innermost first, a ggml type id, an offset into the data.
    fn tensor(&mut self, name: &str, dims: &[u64], dtype: u32, offset: u64) -> &mut Self {
        self.string(name).u32(dims.len() as u32);
        for &dim in dims {
            self.u64(dim);
        }
        self.u32(dtype).u64(offset)
    }

    /// Pads to the default alignment and appends `data` zero bytes of tensor data.
    fn data(&mut self, data: usize) -> Vec<u8> {
        let padded = self.bytes.len().div_ceil(32) * 32;
        self.bytes.resize(padded + data, 0);
        self.bytes.clone()
    }
}

#[test]
fn gguf_headers_whose_counts_lengths_shapes_or_offsets_do_not_fit_the_file_are_refused() {
    let config = metadata_string(BASE, "sakha_asr.config");
    // Our metadata, then tensors as given: the file is otherwise a plausible base.
    let base = |tensor_count: u64, tensors: &dyn Fn(&mut RawGguf)| {
        let mut raw = RawGguf::header(3, tensor_count, 2);
        raw.string("sakha_asr.format_version").u32(4).u32(1).meta("sakha_asr.config", &config);
        tensors(&mut raw);
        raw.data(4096)
    };
    let huge = 1u64 << 32;
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (base(1, &|raw| { raw.tensor("x", &[huge, huge, huge], 0, 0); }), "x", "need more bytes"),
        (base(1, &|raw| { raw.tensor("x", &[1 << 20, 1 << 10], 0, 0); }), "x", "need more bytes"),
        (base(1, &|raw| { raw.tensor("x", &[32, 2], 0, 1 << 40); }), "x", "do not fit in the"),
        (base(1, &|raw| { raw.tensor("x", &[32, 2], 0, u64::MAX - 8); }), "x", "do not fit in the"),
        (base(1, &|raw| { raw.tensor("x", &[33, 32], 8, 0); }), "x", "multiple of Q8_0's block of 32"),
        (base(1, &|raw| { raw.tensor("x", &[256, 0], 12, 0); }), "x", "none may be 0"),
        (base(1, &|raw| { raw.tensor("x", &[1, 1, 1, 1, 1], 0, 0); }), "x", "5 dimensions"),
        (base(1, &|raw| { raw.tensor("x", &[], 0, 0); }), "x", "0 dimensions"),
        (base(1, &|raw| { raw.tensor("x", &[32], 99, 0); }), "x", "GGUF tensor type 99"),
        (base(2, &|raw| { raw.tensor("x", &[32, 8], 0, 0).tensor("y", &[32], 0, 512); }), "y", "overlaps"),
        (base(2, &|raw| { raw.tensor("x", &[32], 0, 0).tensor("x", &[32], 0, 128); }), "x", "two tensors of this name"),
        (base(1 << 40, &|_| {}), "tensor_count", "1099511627776 is more than"),
    ];
    for (bytes, field, why) in cases {
        assert_invalid(Package::new().replace(BASE, &bytes).error(), BASE, field, why);
    }

    let mut huge_string = RawGguf::header(3, 0, 1);
    huge_string.string("sakha_asr.config").u32(8).u64(1 << 60);
    let mut huge_array = RawGguf::header(3, 0, 1);
    huge_array.string("tokens").u32(9).u32(0).u64(1 << 40);
    let mut deep = RawGguf::header(3, 0, 1);
    deep.string("nested").u32(9);
    for _ in 0..20 {
        deep.u32(9).u64(1);
    }
    let headers: Vec<(Vec<u8>, &str, &str)> = vec![
        (huge_string.data(64), "sakha_asr.config", "longer than the file allows"),
        (huge_array.data(64), "tokens", "array of 1099511627776 values"),
        (deep.data(64), "nested", "nested more than 8 deep"),
        (RawGguf::header(3, 0, 1 << 20).data(64), "metadata_kv_count", "1048576 is more than"),
        (RawGguf::header(1, 0, 0).data(64), "version", "GGUF version 1"),
        (RawGguf::header(3, 0, 1).bytes, "metadata key", "ends inside its header"),
        (RawGguf::header(3, 2, 0).tensor("x", &[4], 0, 0).bytes.clone(), "tensor name", "ends inside its header"),
        (vec![0u8; 64], "magic", "not a GGUF file"),
    ];
    for (bytes, field, why) in headers {
        assert_invalid(Package::new().replace(BASE, &bytes).error(), BASE, field, why);
    }
}

/// sah.gguf with its token table patched.
fn with_vocab(patch: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> Vec<u8> {
    let mut table: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&metadata_string(LANGUAGE, "sakha_asr.vocab")).unwrap();
    patch(&mut table);
    with_metadata(LANGUAGE, "sakha_asr.vocab", Value::String(serde_json::to_string(&table).unwrap()))
}

#[test]
fn vocabulary_ids_beyond_the_head_or_shared_are_refused_without_allocating_for_them() {
    // 4e9 ids of 24 bytes each would be 96 GB: the test could not pass if they were allocated.
    let far = with_vocab(|table| {
        table.insert("ꙗ".into(), 4_000_000_000u32.into());
    });
    let message = Package::new().replace(LANGUAGE, &far).error().to_string();
    assert!(message.contains("\"ꙗ\" has id 4000000000") && message.contains("sah.gguf scores only"), "{message}");

    let shared = with_vocab(|table| {
        table.insert("ꙗ".into(), 5.into());
    });
    assert_invalid(Package::new().replace(LANGUAGE, &shared).error(), LANGUAGE, "sakha_asr.vocab", "the same id 5");

    let negative = with_vocab(|table| {
        table.insert("ꙗ".into(), (-1).into());
    });
    assert_invalid(Package::new().replace(LANGUAGE, &negative).error(), LANGUAGE, "sakha_asr.vocab", "not a token table");

    let no_blank = with_vocab(|table| {
        table.remove("<pad>");
    });
    assert_invalid(Package::new().replace(LANGUAGE, &no_blank).error(), LANGUAGE, "sakha_asr.vocab", "no CTC blank");
}

/// sah.gguf with one tensor replaced by zeros of another shape (f32).
fn with_tensor(name: &str, dims: &[usize]) -> Vec<u8> {
    let (metadata, mut tensors) = gguf_parts(&model_file(LANGUAGE));
    let zeros = Tensor::zeros(dims, candle_core::DType::F32, &Device::Cpu).unwrap();
    let tensor = tensors.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}"));
    tensor.1 = QTensor::quantize(&zeros, GgmlDType::F32).unwrap();
    gguf_bytes(&metadata, &tensors)
}

#[test]
fn language_tensors_must_have_the_shapes_the_config_implies() {
    let cases: [(&str, &[usize], &str); 4] = [
        // The built-in head scores 40 tokens from 256 hidden values.
        ("lm_head.weight", &[40, 128], "lm_head.weight has shape [40, 128] but the config implies [40, 256]"),
        ("lm_head.weight", &[40], "a CTC head is [vocabulary, hidden_size]"),
        ("lm_head.bias", &[39], "lm_head.bias has shape [39] but the config implies [40]"),
        (
            "wav2vec2.encoder.layers.2.adapter_layer.linear_1.weight",
            &[16, 64],
            "adapter_layer.linear_1.weight has shape [16, 64] but the config implies [16, 256]",
        ),
    ];
    for (tensor, dims, why) in cases {
        let message = Package::new().replace(LANGUAGE, &with_tensor(tensor, dims)).error().to_string();
        assert!(message.starts_with("sah.gguf: ") && message.contains(why), "{tensor}: {message}");
    }
}

#[test]
fn manifests_with_unsafe_names_impossible_sizes_or_missing_languages_are_refused() {
    let cases: Vec<(&str, serde_json::Value, &str, &str)> = vec![
        ("/base/file", json!("../../etc/passwd"), "base.file", "not a plain file name"),
        ("/languages/sah/file", json!("/etc/passwd"), "languages.sah.file", "not a plain file name"),
        ("/languages/sah/file", json!("..\\sah.gguf"), "languages.sah.file", "not a plain file name"),
        ("/languages/sah/file", json!("model.json"), "languages.sah.file", "ending in .gguf"),
        ("/base/bytes", json!(0), "base.bytes", "0 bytes is not a possible size"),
        ("/base/bytes", json!(u64::MAX), "base.bytes", "is not a possible size"),
        ("/base/sha256", json!("d3285c"), "base.sha256", "not a sha256 digest"),
        ("/languages", json!({}), "languages", "there are none"),
        ("/default_language", json!("kaz"), "default_language", "\"kaz\" is not one of the package's languages (sah)"),
    ];
    for (pointer, value, field, why) in cases {
        let package = Package::new();
        package.patch_manifest(|manifest| *manifest.pointer_mut(pointer).unwrap() = value);
        assert_invalid(package.error(), MANIFEST_FILE, field, why);
    }
    let error = Package::new().list_language_as("../sah").error();
    assert_invalid(error, MANIFEST_FILE, "languages", "\"../sah\" is not a language name");
}

#[test]
fn a_language_file_listed_under_another_language_is_refused() {
    let error = Package::new().list_language_as("kaz").error();
    assert_invalid(error, LANGUAGE, "sakha_asr.language", "holds language \"sah\", but the manifest lists it for \"kaz\"");
}

/// The CLI reports a lying package as a model it cannot load: exit status 3 and the reason.
#[cfg(feature = "cli")]
#[test]
fn the_cli_exits_with_status_3_and_the_reason() {
    let audio = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/samples/sakha-sample.wav");
    let stride = with_config(|config| config["conv_stride"] = json!([5, 2, 0, 2, 2, 2, 2]));
    let alignment = with_metadata(BASE, "general.alignment", Value::U32(0));
    let traversal = Package::new();
    traversal.patch_manifest(|manifest| manifest["base"]["file"] = "../../etc/passwd".into());
    let packages = [
        (Package::new(), Some(stride), "base.gguf: sakha_asr.config: conv_stride[2] is 0"),
        (Package::new(), Some(alignment), "base.gguf: general.alignment: 0; it must be a power of two"),
        (traversal, None, "model.json: base.file: \"../../etc/passwd\" is not a plain file name"),
    ];
    for (package, base, reason) in packages {
        if let Some(base) = base {
            package.replace(BASE, &base);
        }
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_sakha-asr"))
            .args(["transcribe", "--model", package.dir.path().to_str().unwrap(), audio])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
    }
}
