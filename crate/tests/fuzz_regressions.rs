#![cfg(feature = "cli")]
//! Inputs the fuzz targets (fuzz/fuzz_targets/) once crashed on, kept in fuzz/regressions/TARGET/:
//! each must now be a clear error.

use std::path::Path;

use sakha_asr::audio::{decode_audio_bytes, AudioError};

fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions").join(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn audio_flac_comment_declaring_gigabytes_is_corrupt() {
    // libFuzzer: malloc(1886417008) in symphonia's Vorbis comment reader, from a 7 KB input.
    let error = decode_audio_bytes(regression("audio", "flac_vorbis_comment_1.9gb.flac"), None).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("FLAC Vorbis comment block declares more bytes"), "{error}");
}

#[test]
fn audio_flac_after_junk_with_comment_declaring_gigabytes_is_corrupt() {
    // libFuzzer: malloc(2470586740), the same reader, where "fLaC" follows 138 bytes of junk that
    // symphonia's probe skips.
    let error = decode_audio_bytes(regression("audio", "flac_after_junk_vorbis_comment_2.5gb.flac"), None).unwrap_err();
    assert!(matches!(error, AudioError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("FLAC Vorbis comment block declares more bytes"), "{error}");
}
