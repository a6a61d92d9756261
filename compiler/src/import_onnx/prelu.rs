//! A PRelu with a slope per channel, as ops the packing has: with `a_c`
//! the slope of channel `c`,
//!
//! ```text
//! PRelu(x, slope)                     x [1, C, H, W], slope [C, 1, 1] (C values)
//!   =>
//! %r = nn.relu %x
//! %p = nn.conv2d %r, %(1 - a) {groups = C}   1x1 depthwise: (1 - a_c) relu(x)
//! %q = nn.conv2d %x, %a {groups = C}         a_c x
//! %y = nn.add %p, %q                         = max(x, 0) + a_c min(x, 0)
//! ```
//!
//! A `[1, C]` input (after a Linear) scales by a diagonal gemm instead.
//! Both scalings are one level and one diagonal each; a single slope for
//! all channels stays one `nn.leaky_relu` (see `attrs::prelu_attrs`).

use super::{node_label, Importer};
use orion_dialects::ir::{Attribute, Location, ValueId};
use orion_dialects::nn::conv::Conv2dAttrs;
use tract_onnx::pb::NodeProto;

impl Importer<'_> {
    /// Imports `node` (a PRelu whose slope has one value per channel) as
    /// the ops above; the result is `node`'s output.
    pub(super) fn prelu_per_channel(
        &mut self,
        node: &NodeProto,
        slope: &[f32],
    ) -> Result<(), String> {
        let x = self.operand(&node.input[0])?;
        let ty = self.func.ty(x).clone();
        let shape = ty.shape().unwrap_or(&[]).to_vec();
        let channels = shape.get(1).copied().unwrap_or(0);
        if shape.first() != Some(&1) || slope.len() != channels {
            return Err(format!(
                "a slope of {} values for an input of shape {shape:?}: only one slope, or one \
                 per channel of a batch-1 input, is supported",
                slope.len()
            ));
        }
        let loc = Location::Name(node_label(node));
        let relu = self
            .func
            .push_op("nn.relu", vec![x], vec![], vec![ty.clone()], loc.clone())[0];
        let keep: Vec<f32> = slope.iter().map(|a| 1.0 - a).collect();
        let label = node_label(node);
        let positive = self.channel_scale(relu, &keep, &format!("{label}_positive"), &loc)?;
        let negative = self.channel_scale(x, slope, &format!("{label}_slope"), &loc)?;
        let out = self
            .func
            .push_op("nn.add", vec![positive, negative], vec![], vec![ty], loc)[0];
        let name = node.output.first().ok_or("node has no output")?;
        self.values.insert(name.clone(), out);
        Ok(())
    }

    /// `x` times `scale[c]` on channel `c`: a 1x1 depthwise conv of an NCHW
    /// input, a diagonal gemm of a `[1, C]` one.
    fn channel_scale(
        &mut self,
        x: ValueId,
        scale: &[f32],
        hint: &str,
        loc: &Location,
    ) -> Result<ValueId, String> {
        let ty = self.func.ty(x).clone();
        let c = scale.len();
        let (op, weights, w_shape, attrs) = match ty.shape().unwrap_or(&[]) {
            [1, _, _, _] => {
                let attrs = Conv2dAttrs {
                    groups: c,
                    ..Conv2dAttrs::default()
                };
                (
                    "nn.conv2d",
                    scale.to_vec(),
                    vec![c, 1, 1, 1],
                    attrs.to_attrs(),
                )
            }
            [1, _] => {
                let mut diag = vec![0.0; c * c];
                for (i, &s) in scale.iter().enumerate() {
                    diag[i * c + i] = s;
                }
                let trans_b = vec![("trans_b".to_string(), Attribute::Bool(true))];
                ("nn.gemm", diag, vec![c, c], trans_b)
            }
            other => {
                return Err(format!(
                    "a slope per channel needs an NCHW or [1, C] input, got {other:?}"
                ))
            }
        };
        let w = self.push_constant(hint, &weights, &w_shape, loc.clone());
        Ok(self
            .func
            .push_op(op, vec![x, w], attrs, vec![ty], loc.clone())[0])
    }
}
