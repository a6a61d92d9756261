//! Helpers shared by the integration tests: paths into `examples/`, the
//! committed MNIST test images, and tract's inference as the reference.
#![allow(dead_code)] // each test binary uses its own subset

pub mod onnx_builder;
pub mod trained;

use orion_dialects::tensor::Tensor;
use std::path::PathBuf;
use std::sync::Arc;
use tract_onnx::prelude::*;

pub fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

/// MNIST test images `range` from the committed IDX file, normalized as in
/// training: (p / 255 - 0.1307) / 0.3081.
pub fn mnist_images(range: std::ops::Range<usize>) -> Vec<Tensor> {
    let bytes = std::fs::read(example("examples/data/mnist-test-1000-images-idx3-ubyte")).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
    range
        .map(|i| {
            let px = &bytes[16 + i * 784..16 + (i + 1) * 784];
            Tensor::new(
                vec![1, 1, 28, 28],
                px.iter()
                    .map(|&p| (p as f64 / 255.0 - 0.1307) / 0.3081)
                    .collect(),
            )
        })
        .collect()
}

pub fn mnist_labels() -> Vec<u8> {
    let bytes = std::fs::read(example("examples/data/mnist-test-1000-labels-idx1-ubyte")).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 8, 1]);
    bytes[8..].to_vec()
}

/// Fashion-MNIST test images `range` as the ResNet-20 example reads them:
/// normalized like MNIST, padded from 28x28 to 32x32 with the normalized
/// background (pixel 0), repeated over 3 channels (examples/resnet20/README.md).
pub fn fashion_images(range: std::ops::Range<usize>) -> Vec<Tensor> {
    let bytes =
        std::fs::read(example("examples/data/fashion-test-1000-images-idx3-ubyte")).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
    let norm = |p: u8| (p as f64 / 255.0 - 0.1307) / 0.3081;
    range
        .map(|i| {
            let px = &bytes[16 + i * 784..16 + (i + 1) * 784];
            let mut plane = vec![norm(0); 32 * 32];
            for y in 0..28 {
                for x in 0..28 {
                    plane[(y + 2) * 32 + x + 2] = norm(px[y * 28 + x]);
                }
            }
            Tensor::new(vec![1, 3, 32, 32], plane.repeat(3))
        })
        .collect()
}

pub fn fashion_labels() -> Vec<u8> {
    let bytes =
        std::fs::read(example("examples/data/fashion-test-1000-labels-idx1-ubyte")).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 8, 1]);
    bytes[8..].to_vec()
}

/// tract's logits for one image (any NCHW shape).
pub fn tract_logits(model: &Arc<TypedRunnableModel>, image: &Tensor) -> Tensor {
    let data: Vec<f32> = image.data.iter().map(|&v| v as f32).collect();
    let input = tract_ndarray::ArrayD::from_shape_vec(image.shape.clone(), data)
        .unwrap()
        .into_tensor();
    let out = model.run(tvec!(input.into())).unwrap();
    let view = out[0].to_plain_array_view::<f32>().unwrap();
    Tensor::new(
        vec![1, view.len()],
        view.iter().map(|&v| v as f64).collect(),
    )
}

/// The stacked float32 inputs of a committed `.npy` file (`[N, ...]`), as
/// N tensors of shape `[1, ...]`.
pub fn npy_inputs(path: &str) -> Vec<Tensor> {
    let bytes = std::fs::read(example(path)).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let values: Vec<f32> = npy.into_vec().unwrap();
    let per = values.len() / shape[0];
    let mut one = shape.clone();
    one[0] = 1;
    values
        .chunks(per)
        .map(|v| Tensor::new(one.clone(), v.iter().map(|&x| x as f64).collect()))
        .collect()
}
