//! Native audio input for the command-line tool: decodes any file symphonia understands
//! (WAV, FLAC, MP3, Ogg/Vorbis, ...), mixes it down to mono and resamples it to the 16 kHz
//! the wav2vec2 models expect.

use std::any::Any;
use std::fs::File;
use std::io::{BufReader, Cursor, ErrorKind, Read, Seek, SeekFrom};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use rubato::{FftFixedInOut, Resampler};
use symphonia::core::audio::{AudioBufferRef, Channels, SampleBuffer};
use symphonia::core::codecs::{self, CodecParameters, CodecType, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadBytes};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Instantiate;

pub const TARGET_SAMPLE_RATE: u32 = 16_000;

/// Source sample rates we accept. Below 1 kHz there is no speech left to recognise; the upper
/// bound (the highest rate audio interfaces use) keeps the resampler's FFT size bounded, since
/// it grows with `rate / gcd(rate, 16000)`.
const MIN_SAMPLE_RATE: u32 = 1_000;
const MAX_SAMPLE_RATE: u32 = 768_000;

/// Minimum input frames per resampler block (rounded up to a power-of-two number of periods of
/// the rate ratio). The anti-aliasing filter is as long as a block, so this sets both its
/// steepness and the FFT cost.
const RESAMPLER_BLOCK_FRAMES: usize = 4096;

/// WAV data sizes from here up (2 GiB - 64 KiB) are taken as "length unknown": sox writes
/// `0x7fff_f000` and ffmpeg `0xffff_ffff` when streaming a WAV into a pipe, because they cannot seek
/// back to fix the header. Real files that large only lose the truncation check.
const STREAMED_WAV_DATA_BYTES: u64 = 0x7fff_0000;

/// How errors from [`decode_audio_bytes`] name their input (plus the hint, if any).
const IN_MEMORY_NAME: &str = "in-memory audio";
/// How errors from [`resample_to_16k`] name their input.
const SAMPLES_NAME: &str = "audio samples";

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{name}: cannot read file: {source}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    /// No known container was recognised, the codec has no decoder, or there is no audio track.
    #[error("{name}: not a supported audio format ({reason})")]
    Unsupported { name: String, reason: String },
    /// The container states its length exactly and the audio data stops short of it.
    #[error(
        "{name}: file is truncated: the audio stops after {decoded_frames} of the \
         {declared_frames} frames its header declares"
    )]
    Truncated {
        name: String,
        decoded_frames: u64,
        declared_frames: u64,
    },
    /// The data is malformed, or ends inside a header or packet.
    #[error("{name}: file is truncated or corrupt: {reason}")]
    Corrupt { name: String, reason: String },
    /// The input decodes to zero samples (including a 0-byte file).
    #[error("{name}: contains no audio samples")]
    Empty { name: String },
    /// The sample rate is outside the range we can resample from.
    #[error(
        "{name}: unsupported sample rate {rate} Hz (supported: {min} to {max} Hz)",
        min = MIN_SAMPLE_RATE,
        max = MAX_SAMPLE_RATE
    )]
    BadSampleRate { name: String, rate: u32 },
    /// The resampler rejected its input (not expected to happen for a supported rate).
    #[error("{name}: resampling from {from_rate} Hz failed: {reason}")]
    Resample {
        name: String,
        from_rate: u32,
        reason: String,
    },
}

/// Decodes an audio file (WAV any rate/channels, 8/16/24/32-bit int or float; FLAC; MP3; OGG/Vorbis),
/// mixes down to mono by averaging channels and resamples to 16 kHz with a band-limited resampler.
///
/// The file is streamed, so only the 16 kHz result is held in memory.
///
/// # Errors
/// Any [`AudioError`] variant; each message starts with `path`.
pub fn load_audio_file(path: &Path) -> Result<Vec<f32>, AudioError> {
    let name = path.display().to_string();
    let io_error = |source| AudioError::Io {
        name: name.clone(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    // Opening a directory succeeds on Unix, and symphonia's probe would then report read
    // errors as "no format found".
    if metadata.is_dir() {
        return Err(io_error(ErrorKind::IsADirectory.into()));
    }
    // Only regular files report a meaningful length; pipes and devices say 0.
    if metadata.is_file() && metadata.len() == 0 {
        return Err(AudioError::Empty { name });
    }
    decode_guarded(Box::new(file), &name)
}

/// Same from in-memory bytes; `hint` is a file extension like "wav" or "mp3" (may be None).
///
/// symphonia 0.5 recognises formats by their content alone, so the hint only serves to name
/// the input in errors: "in-memory audio (.mp3)", or "in-memory audio" without one.
///
/// # Errors
/// As [`load_audio_file`].
pub fn decode_audio_bytes(bytes: Vec<u8>, hint: Option<&str>) -> Result<Vec<f32>, AudioError> {
    let name = match hint {
        Some(extension) => format!("{IN_MEMORY_NAME} (.{extension})"),
        None => IN_MEMORY_NAME.to_owned(),
    };
    if bytes.is_empty() {
        return Err(AudioError::Empty { name });
    }
    decode_guarded(Box::new(Cursor::new(bytes)), &name)
}

/// Band-limited resampling of mono samples to 16 kHz (identity when already 16 kHz).
///
/// The output is time-aligned with the input (the filter delay is removed) and has
/// `round(samples.len() * 16000 / from_rate)` samples.
///
/// # Errors
/// [`AudioError::BadSampleRate`] for a rate outside 1 to 768 kHz.
pub fn resample_to_16k(samples: &[f32], from_rate: u32) -> Result<Vec<f32>, AudioError> {
    let mut resampler = MonoResampler::new(from_rate, SAMPLES_NAME, samples.len())?;
    resampler.push(samples)?;
    resampler.finish()
}

/// Runs [`decode_stream`], turning a panic into an error: symphonia 0.5 still panics on some
/// malformed files (e.g. an integer overflow in the MP3 Xing/LAME parser, Symphonia issue #439).
fn decode_guarded(source: Box<dyn MediaSource>, name: &str) -> Result<Vec<f32>, AudioError> {
    panic::catch_unwind(AssertUnwindSafe(|| decode_stream(source, name))).unwrap_or_else(
        |payload| {
            Err(AudioError::Corrupt {
                name: name.to_owned(),
                reason: format!(
                    "the decoder failed on malformed data ({})",
                    panic_message(&payload)
                ),
            })
        },
    )
}

fn panic_message(payload: &Box<dyn Any + Send>) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "panic"
    }
}

fn decode_stream(source: Box<dyn MediaSource>, name: &str) -> Result<Vec<f32>, AudioError> {
    let mut reader = open_container(MediaSourceStream::new(source, Default::default()), name)?;
    let track = reader
        .tracks()
        .iter()
        .find(|track| track.codec_params.codec != codecs::CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::Unsupported {
            name: name.to_owned(),
            reason: "no audio track".to_owned(),
        })?;
    let track_id = track.id;
    let declared_frames = exact_frame_count(&track.codec_params);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| symphonia_error(e, name))?;

    let mut mixer = MonoMixer::default();
    let mut resampler: Option<MonoResampler> = None;
    let mut decoded_frames: u64 = 0;
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            // symphonia signals the end of the stream this way, for a clean end and a cut-off
            // file alike; `declared_frames` tells the two apart where the container allows.
            Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(symphonia_error(e, name)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        // Players skip packets that fail to decode; for transcription a damaged file must not
        // silently lose audio, so it is an error.
        let decoded = decoder
            .decode(&packet)
            .map_err(|e| symphonia_error(e, name))?;
        let frames = decoded.frames();
        if frames == 0 {
            continue;
        }
        let rate = decoded.spec().rate;
        let resampler = match &mut resampler {
            Some(resampler) if resampler.from_rate == rate => resampler,
            Some(resampler) => {
                return Err(AudioError::Unsupported {
                    name: name.to_owned(),
                    reason: format!(
                        "the sample rate changes part-way from {} Hz to {rate} Hz",
                        resampler.from_rate
                    ),
                })
            }
            None => resampler.insert(MonoResampler::new(rate, name, 0)?),
        };
        let mono = mixer.mix(decoded).ok_or_else(|| AudioError::Corrupt {
            name: name.to_owned(),
            reason: "a packet decodes to zero channels".to_owned(),
        })?;
        resampler.push(mono)?;
        decoded_frames += frames as u64;
    }

    if let Some(declared_frames) = declared_frames {
        if decoded_frames < declared_frames {
            return Err(AudioError::Truncated {
                name: name.to_owned(),
                decoded_frames,
                declared_frames,
            });
        }
    }
    match resampler {
        Some(resampler) => resampler.finish(),
        None => Err(AudioError::Empty {
            name: name.to_owned(),
        }),
    }
}

/// Refuses a FLAC file whose metadata declares lengths it does not hold: symphonia 0.5 allocates
/// a Vorbis comment's or a picture's declared length (up to 4 GiB) before reading it, so a few
/// kilobytes could make it ask for gigabytes (found by fuzz/fuzz_targets/audio.rs). Every block
/// must fit in the input and every length inside those two kinds of block in its block. `stream`
/// is where the probe found a container (after any junk or ID3 tag) and is put back there. Other
/// containers, and streams that cannot seek back, are left to symphonia.
fn check_flac_metadata(stream: &mut MediaSourceStream, name: &str) -> Result<(), AudioError> {
    let start = stream.pos();
    let (Some(input_len), true) = (stream.byte_len(), stream.is_seekable()) else {
        return Ok(());
    };
    let lie = flac_metadata_lie(&mut BufReader::new(&mut *stream), input_len.saturating_sub(start));
    stream.seek(SeekFrom::Start(start)).map_err(|source| AudioError::Io {
        name: name.to_owned(),
        source,
    })?;
    match lie {
        Some(reason) => Err(AudioError::Corrupt {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// What is wrong with the FLAC metadata at the start of `reader`, if it is FLAC and something is.
/// A read that fails is left for symphonia to report.
fn flac_metadata_lie(reader: &mut impl Read, input_len: u64) -> Option<String> {
    const VORBIS_COMMENT: u8 = 4;
    const PICTURE: u8 = 6;
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic).ok()?;
    if &magic != b"fLaC" {
        return None;
    }
    let mut block_end = 4u64;
    loop {
        let mut header = [0u8; 4];
        reader.read_exact(&mut header).ok()?;
        let block_type = header[0] & 0x7f;
        let block_len = u32::from_be_bytes([0, header[1], header[2], header[3]]);
        block_end += 4 + u64::from(block_len);
        if block_end > input_len {
            return Some(format!(
                "a FLAC metadata block of {block_len} bytes runs past the end of the {input_len}-byte input"
            ));
        }
        // At most 16 MiB (a 24-bit length), and within the input as just checked.
        let mut block = vec![0u8; block_len as usize];
        reader.read_exact(&mut block).ok()?;
        let mut fields = LengthFields(&block);
        let fits = match block_type {
            VORBIS_COMMENT => fields.vorbis_comment(),
            PICTURE => fields.picture(),
            _ => Some(()),
        };
        if fits.is_none() {
            let kind = if block_type == PICTURE { "picture" } else { "Vorbis comment" };
            return Some(format!("a FLAC {kind} block declares more bytes than its {block_len}"));
        }
        if header[0] & 0x80 != 0 {
            return None;
        }
    }
}

/// The unread rest of a metadata block; each method is `None` once a declared length runs past it.
struct LengthFields<'a>(&'a [u8]);

impl LengthFields<'_> {
    fn skip(&mut self, bytes: u64) -> Option<()> {
        let bytes = usize::try_from(bytes).ok()?;
        self.0 = self.0.get(bytes..)?;
        Some(())
    }

    fn u32(&mut self, read: fn([u8; 4]) -> u32) -> Option<u32> {
        let (value, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(read(*value))
    }

    /// A length (in `read`'s byte order) and that many bytes.
    fn counted(&mut self, read: fn([u8; 4]) -> u32) -> Option<()> {
        let len = self.u32(read)?;
        self.skip(u64::from(len))
    }

    /// Vendor string, then a count of comments, each a string (little-endian lengths).
    fn vorbis_comment(&mut self) -> Option<()> {
        self.counted(u32::from_le_bytes)?;
        let comments = self.u32(u32::from_le_bytes)?;
        // Each comment takes at least its 4-byte length, so this ends within the block.
        (0..comments).try_for_each(|_| self.counted(u32::from_le_bytes))
    }

    /// Picture type, media type, description, four numbers, then the data (big-endian lengths).
    fn picture(&mut self) -> Option<()> {
        self.skip(4)?;
        self.counted(u32::from_be_bytes)?;
        self.counted(u32::from_be_bytes)?;
        self.skip(16)?;
        self.counted(u32::from_be_bytes)
    }
}

/// Finds the container in `stream` and opens its reader.
///
/// This is symphonia's `Probe::format` loop, except that it notes whether bytes were skipped
/// before the signature: the 11-bit MP3 sync word turns up by chance in any binary file, and
/// opening such a false match runs into the end of the data. That is reported as an unsupported
/// format, whereas a file cut inside a header at its very start is reported as corrupt.
fn open_container(
    mut stream: MediaSourceStream,
    name: &str,
) -> Result<Box<dyn FormatReader>, AudioError> {
    let probe = symphonia::default::get_probe();
    let mut element_end = 0;
    loop {
        match probe
            .next(&mut stream)
            .map_err(|e| symphonia_error(e, name))?
        {
            Instantiate::Metadata(make_reader) => {
                make_reader(&MetadataOptions::default())
                    .read_all(&mut stream)
                    .map_err(|e| symphonia_error(e, name))?;
                element_end = stream.pos();
            }
            Instantiate::Format(open) => {
                let skipped_junk = stream.pos() > element_end;
                check_flac_metadata(&mut stream, name)?;
                // Gapless mode lets the readers drop encoder delay and padding (MP3 LAME
                // tags), so the decoded audio keeps the original length and timing.
                let options = FormatOptions {
                    enable_gapless: true,
                    ..Default::default()
                };
                return open(stream, &options).map_err(|error| match error {
                    SymphoniaError::IoError(e)
                        if skipped_junk && e.kind() == ErrorKind::UnexpectedEof =>
                    {
                        AudioError::Unsupported {
                            name: name.to_owned(),
                            reason: "no audio stream found".to_owned(),
                        }
                    }
                    other => symphonia_error(other, name),
                });
            }
        }
    }
}

/// The frame count the container states exactly, if it does: PCM (WAV/AIFF/CAF data size),
/// FLAC (STREAMINFO) and MP3 with a Xing/LAME header. Elsewhere symphonia estimates the count
/// (an untagged MP3's comes from file size / bitrate), and checking against an estimate would
/// call valid files truncated. A cut Ogg file already fails when symphonia opens it, since it
/// reads the last page up front. (Ogg/Vorbis decodes slightly long instead: symphonia 0.5
/// leaves the encoder's end padding in, at most one Vorbis block, typically 10-25 ms.)
fn exact_frame_count(params: &CodecParameters) -> Option<u64> {
    let declared_frames = params.n_frames?;
    if let Some(sample_bytes) = pcm_sample_bytes(params.codec) {
        let channels = params.channels.map_or(1, Channels::count) as u64;
        let declared_bytes = declared_frames.saturating_mul(sample_bytes * channels);
        return (declared_bytes < STREAMED_WAV_DATA_BYTES).then_some(declared_frames);
    }
    let exact = params.codec == codecs::CODEC_TYPE_FLAC
        // The LAME extension (which sets `delay`) sits in the Xing header that holds the count.
        || (params.codec == codecs::CODEC_TYPE_MP3 && params.delay.is_some());
    exact.then_some(declared_frames)
}

/// Bytes per sample of the interleaved PCM codecs the WAV/AIFF/CAF readers produce.
fn pcm_sample_bytes(codec: CodecType) -> Option<u64> {
    use symphonia::core::codecs::*;
    match codec {
        CODEC_TYPE_PCM_S8 | CODEC_TYPE_PCM_U8 | CODEC_TYPE_PCM_ALAW | CODEC_TYPE_PCM_MULAW => {
            Some(1)
        }
        CODEC_TYPE_PCM_S16LE | CODEC_TYPE_PCM_S16BE | CODEC_TYPE_PCM_U16LE
        | CODEC_TYPE_PCM_U16BE => Some(2),
        CODEC_TYPE_PCM_S24LE | CODEC_TYPE_PCM_S24BE | CODEC_TYPE_PCM_U24LE
        | CODEC_TYPE_PCM_U24BE => Some(3),
        CODEC_TYPE_PCM_S32LE | CODEC_TYPE_PCM_S32BE | CODEC_TYPE_PCM_U32LE
        | CODEC_TYPE_PCM_U32BE | CODEC_TYPE_PCM_F32LE | CODEC_TYPE_PCM_F32BE => Some(4),
        CODEC_TYPE_PCM_F64LE | CODEC_TYPE_PCM_F64BE => Some(8),
        _ => None,
    }
}

fn symphonia_error(error: SymphoniaError, name: &str) -> AudioError {
    let name = name.to_owned();
    match error {
        // Outside the end-of-stream check in the packet loop, running out of data means it
        // stopped inside a header or packet.
        SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => AudioError::Corrupt {
            name,
            reason: "the data ends unexpectedly".to_owned(),
        },
        SymphoniaError::IoError(source) => AudioError::Io { name, source },
        SymphoniaError::Unsupported(what) => AudioError::Unsupported {
            name,
            reason: what.to_owned(),
        },
        SymphoniaError::ResetRequired => AudioError::Unsupported {
            name,
            reason: "the stream changes its format part-way (chained streams)".to_owned(),
        },
        SymphoniaError::DecodeError(what) | SymphoniaError::LimitError(what) => {
            AudioError::Corrupt {
                name,
                reason: what.to_owned(),
            }
        }
        seek @ SymphoniaError::SeekError(_) => AudioError::Corrupt {
            name,
            reason: seek.to_string(),
        },
    }
}

/// Converts decoded buffers of any sample format and channel count to mono `f32`, reusing its
/// buffers from packet to packet.
#[derive(Default)]
struct MonoMixer {
    planar: Option<SampleBuffer<f32>>,
    mono: Vec<f32>,
}

impl MonoMixer {
    /// Averages the channels of `decoded`; `None` for a buffer without channels.
    fn mix(&mut self, decoded: AudioBufferRef<'_>) -> Option<&[f32]> {
        let frames = decoded.frames();
        let spec = *decoded.spec();
        let channels = spec.channels.count();
        if channels == 0 {
            return None;
        }
        let planar = match &mut self.planar {
            Some(buffer) if buffer.capacity() >= frames * channels => buffer,
            slot => slot.insert(SampleBuffer::new(frames as u64, spec)),
        };
        planar.copy_planar_ref(decoded);
        let samples = planar.samples();

        self.mono.clear();
        self.mono.extend_from_slice(&samples[..frames]);
        for channel in samples.chunks_exact(frames).skip(1) {
            for (mixed, sample) in self.mono.iter_mut().zip(channel) {
                *mixed += sample;
            }
        }
        if channels > 1 {
            let scale = 1.0 / channels as f32;
            self.mono.iter_mut().for_each(|sample| *sample *= scale);
        }
        Some(&self.mono)
    }
}

/// Resamples a mono stream to 16 kHz block by block, so a long recording is never held in
/// memory at its original rate.
///
/// Uses rubato's synchronous FFT resampler rather than its sinc interpolators: source and
/// target rates are fixed integers, so the exact rational ratio is known. Its anti-aliasing
/// filter is a Blackman-Harris windowed sinc as long as a whole block (thousands of taps,
/// with the cutoff just below 8 kHz), at the cost of a few FFTs per block, and its delay is a
/// whole number of output frames that can be cut off exactly.
struct MonoResampler {
    name: String,
    from_rate: u32,
    input_frames: u64,
    output: Vec<f32>,
    /// `None` when the input is already at 16 kHz.
    fft: Option<FftBlocks>,
}

struct FftBlocks {
    resampler: FftFixedInOut<f32>,
    block_frames: usize,
    /// Input waiting for a full block.
    pending_input: Vec<f32>,
    block_output: Vec<f32>,
    /// Leading output frames still to drop: the filter delay.
    delay_frames_left: usize,
}

impl MonoResampler {
    /// `expected_input_frames` only sizes the output buffer up front.
    fn new(from_rate: u32, name: &str, expected_input_frames: usize) -> Result<Self, AudioError> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&from_rate) {
            return Err(AudioError::BadSampleRate {
                name: name.to_owned(),
                rate: from_rate,
            });
        }
        let fft = if from_rate == TARGET_SAMPLE_RATE {
            None
        } else {
            Some(FftBlocks::new(from_rate).map_err(|e| AudioError::Resample {
                name: name.to_owned(),
                from_rate,
                reason: e.to_string(),
            })?)
        };
        let output_capacity = expected_output_len(expected_input_frames as u64, from_rate);
        Ok(Self {
            name: name.to_owned(),
            from_rate,
            input_frames: 0,
            output: Vec::with_capacity(output_capacity),
            fft,
        })
    }

    fn push(&mut self, mut samples: &[f32]) -> Result<(), AudioError> {
        self.input_frames += samples.len() as u64;
        let Some(fft) = &mut self.fft else {
            self.output.extend_from_slice(samples);
            return Ok(());
        };
        while !samples.is_empty() {
            let take = (fft.block_frames - fft.pending_input.len()).min(samples.len());
            fft.pending_input.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if fft.pending_input.len() == fft.block_frames {
                fft.process_block(&mut self.output)
                    .map_err(|e| resample_error(&self.name, self.from_rate, e))?;
            }
        }
        Ok(())
    }

    /// Flushes the filter with silence and cuts the output to the exact expected length.
    fn finish(mut self) -> Result<Vec<f32>, AudioError> {
        let output_len = expected_output_len(self.input_frames, self.from_rate);
        if let Some(fft) = &mut self.fft {
            while self.output.len() < output_len {
                fft.pending_input.resize(fft.block_frames, 0.0);
                fft.process_block(&mut self.output)
                    .map_err(|e| resample_error(&self.name, self.from_rate, e))?;
            }
        }
        self.output.truncate(output_len);
        Ok(self.output)
    }
}

impl FftBlocks {
    fn new(from_rate: u32) -> Result<Self, rubato::ResamplerConstructionError> {
        let period = (from_rate / greatest_common_divisor(from_rate, TARGET_SAMPLE_RATE)) as usize;
        // A power of two (at least 2) of ratio periods per block: an even count makes both FFT
        // sizes even, so the filter's delay (half a block) is a whole number of output frames,
        // and powers of two keep the FFT sizes fast to factor (48 kHz: 4098 -> 6144 frames).
        let periods = RESAMPLER_BLOCK_FRAMES
            .div_ceil(period)
            .next_power_of_two()
            .max(2);
        let block_frames = periods * period;
        let resampler = FftFixedInOut::new(
            from_rate as usize,
            TARGET_SAMPLE_RATE as usize,
            block_frames,
            1,
        )?;
        Ok(Self {
            block_frames,
            pending_input: Vec::with_capacity(block_frames),
            block_output: vec![0.0; resampler.output_frames_max()],
            delay_frames_left: resampler.output_delay(),
            resampler,
        })
    }

    /// Resamples the full block in `pending_input`, appending the result to `output`.
    fn process_block(&mut self, output: &mut Vec<f32>) -> Result<(), rubato::ResampleError> {
        let (_, produced) = self.resampler.process_into_buffer(
            &[&self.pending_input],
            &mut [&mut self.block_output],
            None,
        )?;
        let dropped = self.delay_frames_left.min(produced);
        self.delay_frames_left -= dropped;
        output.extend_from_slice(&self.block_output[dropped..produced]);
        self.pending_input.clear();
        Ok(())
    }
}

fn resample_error(name: &str, from_rate: u32, error: rubato::ResampleError) -> AudioError {
    AudioError::Resample {
        name: name.to_owned(),
        from_rate,
        reason: error.to_string(),
    }
}

/// `round(input_frames * 16000 / from_rate)`.
fn expected_output_len(input_frames: u64, from_rate: u32) -> usize {
    let from_rate = u128::from(from_rate);
    let scaled = u128::from(input_frames) * u128::from(TARGET_SAMPLE_RATE) + from_rate / 2;
    (scaled / from_rate) as usize
}

fn greatest_common_divisor(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
