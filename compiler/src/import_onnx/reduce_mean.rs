//! ReduceMean over spatial axes of an NCHW tensor, as the average pool over
//! them (a global average pool when both), then a reshape when the axes
//! are not kept:
//!
//! ```text
//! ReduceMean(x [1, C, H, W], axes = [-1]) {keepdims = 0}   (x.mean(-1))
//!   =>
//! %p = nn.avgpool %x {kernel = array<i64: 1, W>} : (...) -> tensor<1xCxHx1xf32>
//! %y = nn.reshape %p : (tensor<1xCxHx1xf32>) -> tensor<1xCxHxf32>
//! ```
//!
//! Means over the batch or the channels are refused (they mix what the
//! packing keeps apart).

use super::{node_label, Importer};
use orion_dialects::ir::{Location, Type};
use orion_dialects::nn::conv::PoolAttrs;
use tract_onnx::pb::NodeProto;

impl Importer<'_> {
    /// Imports `node`, a ReduceMean reading `input`.
    pub(super) fn reduce_mean(&mut self, node: &NodeProto, input: &str) -> Result<(), String> {
        let attr = |k: &str| node.attribute.iter().find(|a| a.name == k);
        let shape = self.spatial_input(input, "ReduceMean")?;
        // Opset 18 moved `axes` from an attribute to an input; none means all.
        let axes: Vec<i64> = match attr("axes") {
            Some(a) => a.ints.clone(),
            None => self
                .constant_input(node, 1, "axes")?
                .map(|v| v.iter().map(|&a| a as i64).collect())
                .unwrap_or_else(|| vec![0, 1, 2, 3]),
        };
        if axes.iter().any(|a| !(-4..4).contains(a)) {
            return Err(format!("axes {axes:?} out of range for a rank-4 input"));
        }
        let mut axes: Vec<usize> = axes.iter().map(|&a| a.rem_euclid(4) as usize).collect();
        axes.sort_unstable();
        axes.dedup();
        let keepdims = attr("keepdims").map_or(1, |a| a.i) != 0;
        if axes.is_empty() || axes.iter().any(|&a| a < 2) {
            return Err(format!(
                "ReduceMean over axes {axes:?} is not supported; only over the spatial axes \
                 (2 and/or 3) of an NCHW input"
            ));
        }
        let loc = Location::Name(node_label(node));
        let x = self.operand(input)?;
        let mut pooled = shape.clone();
        let mut kernel = [1, 1];
        for &a in &axes {
            kernel[a - 2] = shape[a];
            pooled[a] = 1;
        }
        let pooled_ty = Type::f32_tensor(&pooled);
        let mut y = if axes == [2, 3] {
            self.func.push_op(
                "nn.global_avgpool",
                vec![x],
                vec![],
                vec![pooled_ty],
                loc.clone(),
            )[0]
        } else {
            let attrs = PoolAttrs {
                kernel,
                strides: [1, 1],
                pads: [0; 4],
                count_include_pad: false,
            };
            self.func.push_op(
                "nn.avgpool",
                vec![x],
                attrs.to_attrs(),
                vec![pooled_ty],
                loc.clone(),
            )[0]
        };
        let out_name = node.output.first().ok_or("node has no output")?;
        let out_ty = self.tensor_type(out_name)?;
        let want: Vec<usize> = if keepdims {
            pooled
        } else {
            (0..4)
                .filter(|d| !axes.contains(d))
                .map(|d| shape[d])
                .collect()
        };
        if out_ty.shape() != Some(&want[..]) {
            return Err(format!(
                "tract infers the result type {out_ty}, but the mean over axes {axes:?} gives {want:?}"
            ));
        }
        if !keepdims {
            y = self
                .func
                .push_op("nn.reshape", vec![y], vec![], vec![out_ty], loc)[0];
        }
        self.values.insert(out_name.clone(), y);
        Ok(())
    }
}
