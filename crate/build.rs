//! Tells the tests whether the machine they run on has our int8 and bf16 kernels, so that where it does not the
//! kernel tests are reported as ignored, with the reason, instead of passing without having run.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(cpu_runs_int8_kernel, cpu_runs_bf16_kernel)");
    // Wasm tests run in an engine with the build's SIMD (scripts/test-wasm-kernels.sh), where the int8
    // kernel always runs.
    let target_features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") && target_features.split(',').any(|f| f == "simd128") {
        println!("cargo::rustc-cfg=cpu_runs_int8_kernel");
    }
    // Native tests run where they are built, so the build machine's CPU is theirs; a cross build runs
    // none. The features are those `Int8Matrix::available` and `Bf16Matrix::available` check at run time.
    #[cfg(target_arch = "x86_64")]
    if std::env::var("TARGET") == std::env::var("HOST") {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") {
            println!("cargo::rustc-cfg=cpu_runs_int8_kernel");
        }
        if has!("avx512f") && has!("avx512bf16") {
            println!("cargo::rustc-cfg=cpu_runs_bf16_kernel");
        }
    }
}
