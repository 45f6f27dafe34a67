//! Safetensors headers that lie about sizes and offsets are refused with an error naming the file and
//! the tensor, before any allocation or read they would size.

use sakha_asr::hf_dir::{read_safetensors_bytes, HfModelDir};
use sakha_asr::Error;

/// A safetensors file: the 8-byte header length, `header` as JSON, then `data`.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The message of the error reading `bytes` as `name`, which must be a weights error.
fn weights_error(bytes: &[u8]) -> String {
    match read_safetensors_bytes(bytes, "crafted.safetensors") {
        Ok(_) => panic!("a crafted file was read"),
        Err(error @ Error::Weights { .. }) => {
            let message = error.to_string();
            assert!(message.starts_with("crafted.safetensors: "), "{message}");
            message
        }
        Err(other) => panic!("not a weights error: {other}"),
    }
}

fn one_tensor(dtype: &str, shape: &str, begin: u64, end: u64) -> String {
    format!(r#"{{"t":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{begin},{end}]}}}}"#)
}

#[test]
fn a_valid_file_reads_its_tensors() {
    let header = r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[1,1],"data_offsets":[8,10]}}"#;
    let mut data = [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat();
    data.extend_from_slice(&half_one());
    let weights = read_safetensors_bytes(&safetensors(header, &data), "ok.safetensors").unwrap();
    assert_eq!(weights.get_any("a").unwrap().to_vec1::<f32>().unwrap(), [1.5, -2.0]);
    assert_eq!(weights.dims("b").unwrap(), [1, 1]);
}

/// 1.0 as little-endian f16.
fn half_one() -> [u8; 2] {
    0x3c00u16.to_le_bytes()
}

#[test]
fn a_file_shorter_than_the_header_length_is_refused() {
    assert!(weights_error(&[1, 2, 3]).contains("too short"));
}

#[test]
fn a_header_length_beyond_the_file_is_refused_even_where_it_would_wrap() {
    for header_len in [1000, u64::MAX - 4, u64::MAX] {
        let mut bytes = header_len.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        let message = weights_error(&bytes);
        assert!(message.contains(&format!("header length {header_len}")), "{message}");
    }
}

#[test]
fn a_header_that_is_not_json_is_refused() {
    assert!(weights_error(&safetensors("{\"t\": [", &[])).contains("header"));
}

#[test]
fn an_unknown_dtype_names_the_tensor() {
    let message = weights_error(&safetensors(&one_tensor("I64", "[1]", 0, 8), &[0; 8]));
    assert!(message.contains("tensor \"t\"") && message.contains("dtype \"I64\""), "{message}");
}

#[test]
fn a_shape_whose_size_overflows_is_refused() {
    let shape = format!("[{}, {}, 4]", 1u64 << 31, 1u64 << 31);
    let message = weights_error(&safetensors(&one_tensor("F32", &shape, 0, 0), &[]));
    assert!(message.contains("tensor \"t\"") && message.contains("too large"), "{message}");
}

#[test]
fn offsets_outside_the_data_are_refused_even_where_they_would_wrap() {
    for (begin, end) in [(0, 16), (8, 4), (u64::MAX - 3, u64::MAX), (u64::MAX, 3)] {
        let message = weights_error(&safetensors(&one_tensor("F32", "[1]", begin, end), &[0; 8]));
        assert!(
            message.contains("tensor \"t\"") && message.contains("data_offsets") && message.contains("8 bytes of tensor data"),
            "{message}"
        );
    }
}

#[test]
fn a_span_that_differs_from_the_shape_is_refused() {
    let message = weights_error(&safetensors(&one_tensor("F32", "[3]", 0, 8), &[0; 16]));
    assert!(message.contains("hold 8 bytes") && message.contains("takes 12"), "{message}");
}

#[test]
fn overlapping_tensors_are_refused() {
    // Overlaps would let a small file's header make loading allocate many times the file's size.
    let header = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
    let message = weights_error(&safetensors(header, &[0; 12]));
    assert!(message.contains("\"a\" and \"b\" overlap"), "{message}");
}

#[test]
fn a_model_folder_names_the_file_and_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mms_adapter_in_base");
    for file in ["config.json", "vocab.json"] {
        std::fs::copy(fixture.join(file), dir.path().join(file)).unwrap();
    }
    let header = one_tensor("F32", "[1]", 0, u64::MAX);
    std::fs::write(dir.path().join("model.safetensors"), safetensors(&header, &[0; 4])).unwrap();
    let message = HfModelDir::new(dir.path()).load(None).err().unwrap().to_string();
    assert!(message.contains("model.safetensors: ") && message.contains("tensor \"t\""), "{message}");
}
