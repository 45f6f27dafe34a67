//! Targets without our bf16 kernel (it needs x86 AVX-512 BF16): the matrix type exists so that the
//! model compiles the same everywhere, but it has no values, so no code path can reach a product.

use candle_core::Result;

/// Never constructed on this target: [`Bf16Matrix::available`] is false.
#[derive(Debug)]
pub enum Bf16Matrix {}

impl Bf16Matrix {
    pub fn available() -> bool {
        false
    }

    pub fn new(_weight: &[f32], _depth: usize, _columns: usize, _bias: Option<&[f32]>) -> Result<Self> {
        candle_core::bail!("the bf16 kernel needs an x86 CPU with AVX-512 BF16")
    }

    pub fn columns(&self) -> usize {
        match *self {}
    }

    pub fn matmul(&self, _input: &[f32], _row_stride: usize, _rows: usize) -> Result<Vec<f32>> {
        match *self {}
    }
}

/// Unreachable here: attention takes this path only where [`Bf16Matrix::available`] holds.
pub fn attention(_qkv: &[f32], _frames: usize, _heads: usize, _head_dim: usize, _scale: f32) -> Result<Vec<f32>> {
    candle_core::bail!("the bf16 kernel needs an x86 CPU with AVX-512 BF16")
}
