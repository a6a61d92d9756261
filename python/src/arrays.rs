//! NumPy arrays to and from the IR's tensors.

use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArrayDyn};
use orion_dialects::tensor::Tensor;
use pyo3::prelude::*;

use crate::errors::orion_err;

/// The values of a float64 or float32 array, in C order, and its shape.
pub fn values(x: &Bound<'_, PyAny>) -> PyResult<(Vec<usize>, Vec<f64>)> {
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        let a = a.as_array();
        return Ok((a.shape().to_vec(), a.iter().copied().collect()));
    }
    if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let a = a.as_array();
        return Ok((a.shape().to_vec(), a.iter().map(|&v| v as f64).collect()));
    }
    Err(orion_err(format!(
        "error: input: expected a numpy array of float32 or float64, got {}",
        x.get_type().name()?
    )))
}

/// `x` as an input of shape `shape`: the same shape, or one that differs
/// only by dimensions of size 1 (a `(28, 28)` image for `(1, 1, 28, 28)`).
pub fn input_tensor(x: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<Tensor> {
    let (got, data) = values(x)?;
    let squeezed = |s: &[usize]| s.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    if got != shape && squeezed(&got) != squeezed(shape) {
        return Err(orion_err(format!(
            "error: input: shape {got:?}, the program takes {shape:?}"
        )));
    }
    Ok(Tensor::new(shape.to_vec(), data))
}

/// A tensor as a float64 array of its shape.
pub fn to_numpy<'py>(py: Python<'py>, t: Tensor) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let a = ArrayD::from_shape_vec(IxDyn(&t.shape), t.data).map_err(orion_err)?;
    Ok(a.into_pyarray(py))
}
