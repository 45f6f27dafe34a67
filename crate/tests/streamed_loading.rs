//! Package files given to the loader in pieces, as the browser reads them from the Cache API or the
//! network: every way of cutting a file gives the recognizer that loading it whole gives, and a damaged
//! file is reported as damaged whatever part of it the damage hit.

use std::path::Path;

use candle_core::Tensor;
use sakha_asr::convert::{convert_hf_dir, Quantization};
use sakha_asr::package::{self, FileEntry, FileLoader, LoadedFile, Manifest, MANIFEST_FILE};
use sakha_asr::{Error, Recognizer};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mms_separate_adapters");

struct Files {
    manifest: Manifest,
    base: Vec<u8>,
    language: Vec<u8>,
}

fn converted(quantization: Quantization) -> Files {
    let out = tempfile::tempdir().unwrap();
    convert_hf_dir(Path::new(FIXTURE), out.path(), quantization, &["sah".to_string()]).unwrap();
    let read = |name: &str| std::fs::read(out.path().join(name)).unwrap();
    let manifest = Manifest::from_json(&read(MANIFEST_FILE)).unwrap();
    let base = read(&manifest.base.file);
    let language = read(&manifest.languages["sah"].file);
    Files { manifest, base, language }
}

/// `bytes` pushed in pieces whose sizes cycle through `sizes`.
fn streamed(entry: &FileEntry, bytes: &[u8], sizes: &[usize]) -> Result<LoadedFile, Error> {
    let mut loader = FileLoader::new(entry);
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        loader.push(chunk);
        rest = after;
    }
    loader.finish()
}

fn logits(recognizer: &Recognizer) -> Vec<Vec<f32>> {
    let samples: Vec<f32> = Tensor::read_npy(Path::new(FIXTURE).join("input_2.npy")).unwrap().to_vec1().unwrap();
    recognizer.logits(&samples).unwrap().to_vec2().unwrap()
}

#[test]
fn any_cutting_of_the_files_gives_the_recognizer_loading_them_whole_gives() {
    for quantization in [Quantization::F32, Quantization::Q8_0, Quantization::Q4K] {
        let files = converted(quantization);
        let whole = package::recognizer_from_bytes(&files.manifest, &files.base, &files.language, None, None).unwrap();
        let expected = logits(&whole);
        let language_entry = &files.manifest.languages["sah"];
        // Single bytes, odd sizes that straddle every header field and tensor boundary, and pieces
        // larger than the header.
        for sizes in [&[1][..], &[2], &[3], &[7], &[31, 1, 5], &[4099], &[65_536, 13]] {
            let base = streamed(&files.manifest.base, &files.base, sizes).unwrap();
            let language = streamed(language_entry, &files.language, sizes).unwrap();
            let recognizer = package::recognizer_from_files(base, language, "sah").unwrap();
            assert_eq!(logits(&recognizer), expected, "{} in pieces of {sizes:?}", quantization.name());
        }
    }
}

#[track_caller]
fn assert_mismatch(result: Result<LoadedFile, Error>, why: &str) {
    match result {
        Err(Error::FileMismatch { file, why: w }) if file == "base.gguf" && w.contains(why) => {}
        Err(e) => panic!("expected base.gguf: ...{why}..., got {e:?}"),
        Ok(_) => panic!("a damaged file loaded"),
    }
}

#[test]
fn a_damaged_file_is_reported_as_damaged_even_where_the_damage_breaks_its_header() {
    let files = converted(Quantization::Q8_0);
    let entry = &files.manifest.base;
    for at in [0, 9, 40, files.base.len() / 2, files.base.len() - 1] {
        let mut damaged = files.base.clone();
        damaged[at] ^= 0x5a;
        assert_mismatch(streamed(entry, &damaged, &[1000]), "corrupt or wrong file");
    }
    // Cut short inside the header and inside the data, and one byte too long.
    for length in [10, files.base.len() - 1] {
        assert_mismatch(streamed(entry, &files.base[..length], &[333]), &format!("{length} bytes, but the manifest says"));
    }
    let mut longer = files.base.clone();
    longer.push(0);
    let mut loader = FileLoader::new(entry);
    loader.push(&longer);
    assert!(loader.is_overlong());
    assert_mismatch(loader.finish(), "bytes, but the manifest says");
}

#[test]
fn a_stored_copy_is_checked_for_its_size_and_contents_but_not_hashed_again() {
    let files = converted(Quantization::Q8_0);
    let entry = &files.manifest.base;
    let stored = |bytes: &[u8]| {
        let mut loader = FileLoader::verified_before(entry);
        loader.push(bytes);
        loader.finish()
    };
    // A changed weight byte is not looked for: the copy was verified before it was stored.
    let mut changed = files.base.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0x01;
    assert!(stored(&changed).is_ok());
    assert_mismatch(stored(&files.base[..1000]), "1000 bytes, but the manifest says");
    let mut broken = files.base.clone();
    broken[..4].copy_from_slice(b"FUGG");
    match stored(&broken) {
        Err(Error::InvalidModel { file, field, .. }) if file == "base.gguf" && field == "magic" => {}
        other => panic!("expected base.gguf: magic: ..., got {:?}", other.err()),
    }
}
