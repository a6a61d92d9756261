//! Reference semantics of the `nn` dialect: the oracle the `pack` level is
//! tested against, itself tested against tract's inference of the ONNX file.

use super::activations::Activation;
use super::conv;
use crate::diag::Diagnostic;
use crate::ir::{Attribute, Func, Module, Op, Type, ValueId};
use crate::tensor::{broadcast_binary, broadcast_nary, Tensor};

/// Runs `func.func @main` on `inputs`; returns the values it returns.
pub fn interpret(module: &Module, inputs: &[Tensor]) -> Result<Vec<Tensor>, Diagnostic> {
    let func = module
        .main()
        .ok_or_else(|| Diagnostic::new(Default::default(), "module has no func.func @main"))?;
    interpret_func(module, func, inputs, |_, _| {})
}

/// Runs `func`, calling `observe(op, operands)` before each op (calibration
/// uses it to record activation ranges).
pub fn interpret_func(
    module: &Module,
    func: &Func,
    inputs: &[Tensor],
    mut observe: impl FnMut(&Op, &[&Tensor]),
) -> Result<Vec<Tensor>, Diagnostic> {
    crate::interp_memory::check_interpreter_memory(func, 0, false)?;
    if inputs.len() != func.args.len() {
        return Err(Diagnostic::new(
            func.loc.clone(),
            format!(
                "@{} takes {} inputs, got {}",
                func.name,
                func.args.len(),
                inputs.len()
            ),
        ));
    }
    let mut env: Vec<Option<Tensor>> = vec![None; func.values.len()];
    for (i, (&arg, t)) in func.args.iter().zip(inputs).enumerate() {
        let want = func.ty(arg).num_elements();
        if want != Some(t.len()) {
            return Err(Diagnostic::new(
                func.loc.clone(),
                format!(
                    "input #{i} has {} elements, but @{} expects {}",
                    t.len(),
                    func.name,
                    func.ty(arg)
                ),
            ));
        }
        let shape = func
            .ty(arg)
            .shape()
            .map(<[usize]>::to_vec)
            .unwrap_or_default();
        env[arg.0 as usize] = Some(Tensor::new(shape, t.data.clone()));
    }
    let get = |env: &Vec<Option<Tensor>>, v: ValueId| env[v.0 as usize].clone();
    let first_stages = crate::fitted_range::first_stages(func, "nn.polynomial", &[]);
    for (i, op) in func.body.iter().enumerate() {
        let operands: Vec<Tensor> = op
            .operands
            .iter()
            .map(|&v| {
                get(&env, v).ok_or_else(|| {
                    Diagnostic::new(
                        op.loc.clone(),
                        format!("{} uses a value before its definition", op.label()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let refs: Vec<&Tensor> = operands.iter().collect();
        if op.name == "func.return" {
            return Ok(operands);
        }
        observe(op, &refs);
        if first_stages[i] {
            crate::fitted_range::check(op, &refs[0].data);
        }
        let result_ty = func.ty(op.result()).clone();
        let out = eval_op(op, &refs, &result_ty, module)
            .map_err(|m| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label())))?;
        env[op.result().0 as usize] = Some(out);
    }
    Err(Diagnostic::new(
        func.loc.clone(),
        format!("@{} has no func.return", func.name),
    ))
}

/// Evaluates one op on cleartext tensors.
pub fn eval_op(
    op: &Op,
    x: &[&Tensor],
    result_ty: &Type,
    module: &Module,
) -> Result<Tensor, String> {
    let unary = |f: &dyn Fn(f64) -> f64| Ok(x[0].map(f));
    if let Some(act) = Activation::from_op(op)? {
        return unary(&|v| act.eval(v));
    }
    match op.name.as_str() {
        "nn.constant" => {
            let value = op.attr("value").ok_or("needs a 'value' attribute")?;
            let data = module.resource_f32(value)?;
            let shape = result_ty.shape().ok_or("result must be a tensor")?;
            Ok(Tensor::from_f32(shape, &data))
        }
        "nn.add" => broadcast_binary(x[0], x[1], |a, b| a + b),
        "nn.sub" => broadcast_binary(x[0], x[1], |a, b| a - b),
        "nn.mul" => broadcast_binary(x[0], x[1], |a, b| a * b),
        "nn.div" => broadcast_binary(x[0], x[1], |a, b| a / b),
        "nn.greater" => broadcast_binary(x[0], x[1], |a, b| f64::from(u8::from(a > b))),
        "nn.less" => broadcast_binary(x[0], x[1], |a, b| f64::from(u8::from(a < b))),
        "nn.max" => broadcast_binary(x[0], x[1], f64::max),
        "nn.where" => broadcast_nary(x, |v| if v[0] != 0.0 { v[1] } else { v[2] }),
        "nn.square" => unary(&|v| v * v),
        "nn.neg" => unary(&|v| -v),
        "nn.pow" => {
            let e = op
                .attr("exponent")
                .and_then(Attribute::as_float)
                .ok_or("needs 'exponent'")?;
            unary(&|v| v.powf(e))
        }
        "nn.polynomial" => {
            let poly = Polynomial::from_op(op)?;
            unary(&|v| poly.eval(v))
        }
        "nn.flatten" | "nn.reshape" => {
            let shape = result_ty.shape().ok_or("result must be a tensor")?;
            Ok(Tensor::new(shape.to_vec(), x[0].data.clone()))
        }
        "nn.gemm" => gemm(op, x),
        "nn.matmul" => matmul(x[0], x[1], false, false),
        "nn.batchnorm" => batchnorm(op, x),
        "nn.conv2d" => conv::conv2d(
            x[0],
            x[1],
            x.get(2).copied(),
            &conv::Conv2dAttrs::from_op(op)?,
        ),
        "nn.avgpool" => conv::avgpool(x[0], &conv::PoolAttrs::from_op(op)?),
        "nn.global_avgpool" => conv::global_avgpool(x[0]),
        "nn.maxpool" => conv::maxpool(x[0], &conv::PoolAttrs::from_op(op)?),
        "nn.concat" => super::concat::concat(
            x,
            super::concat::axis(op, x.first().map_or(0, |t| t.shape.len()))?,
        ),
        "nn.pad" => super::pad::pad(x[0], &super::pad::pads(op, x[0].shape.len())?),
        other => Err(format!(
            "has no reference semantics ('{other}' is not an nn op)"
        )),
    }
}

/// A polynomial as `nn.polynomial` / `pack.polynomial` describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct Polynomial {
    pub coeffs: Vec<f64>,
    /// `Some([lo, hi])` for the Chebyshev basis on that interval.
    pub chebyshev_domain: Option<[f64; 2]>,
}

impl Polynomial {
    pub fn from_op(op: &Op) -> Result<Polynomial, String> {
        let coeffs = op
            .attr("coeffs")
            .and_then(Attribute::as_f64_list)
            .ok_or("needs 'coeffs'")?;
        let chebyshev_domain = match op.attr("basis").and_then(Attribute::as_str) {
            Some("chebyshev") => {
                let d = op
                    .attr("domain")
                    .and_then(Attribute::as_f64_list)
                    .ok_or("needs 'domain'")?;
                Some([d[0], d[1]])
            }
            _ => None,
        };
        Ok(Polynomial {
            coeffs,
            chebyshev_domain,
        })
    }

    pub fn eval(&self, x: f64) -> f64 {
        eval_polynomial(&self.coeffs, self.chebyshev_domain, x)
    }
}

/// Horner in the monomial basis; Clenshaw in the Chebyshev basis after
/// mapping `[lo, hi]` onto `[-1, 1]`.
pub fn eval_polynomial(coeffs: &[f64], chebyshev_domain: Option<[f64; 2]>, x: f64) -> f64 {
    match chebyshev_domain {
        None => coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c),
        Some([lo, hi]) => {
            let t = (2.0 * x - lo - hi) / (hi - lo);
            let (mut b1, mut b2) = (0.0, 0.0);
            for &c in coeffs.iter().skip(1).rev() {
                let b0 = 2.0 * t * b1 - b2 + c;
                b2 = b1;
                b1 = b0;
            }
            t * b1 - b2 + coeffs[0]
        }
    }
}

fn transpose(t: &Tensor) -> Tensor {
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut data = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            data[j * r + i] = t.data[i * c + j];
        }
    }
    Tensor::new(vec![c, r], data)
}

fn matmul(a: &Tensor, b: &Tensor, trans_a: bool, trans_b: bool) -> Result<Tensor, String> {
    let a = if trans_a { transpose(a) } else { a.clone() };
    let b = if trans_b { transpose(b) } else { b.clone() };
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
    if b.shape[0] != k {
        return Err(format!("inner dimensions differ: {k} vs {}", b.shape[0]));
    }
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let av = a.data[i * k + p];
            for j in 0..n {
                out[i * n + j] += av * b.data[p * n + j];
            }
        }
    }
    Ok(Tensor::new(vec![m, n], out))
}

fn gemm(op: &Op, x: &[&Tensor]) -> Result<Tensor, String> {
    let flag = |k: &str| op.attr(k).and_then(Attribute::as_bool).unwrap_or(false);
    let alpha = op
        .attr("alpha")
        .and_then(Attribute::as_float)
        .unwrap_or(1.0);
    let beta = op.attr("beta").and_then(Attribute::as_float).unwrap_or(1.0);
    let ab = matmul(x[0], x[1], flag("trans_a"), flag("trans_b"))?.map(|v| alpha * v);
    match x.get(2) {
        Some(c) => broadcast_binary(&ab, c, |p, q| p + beta * q),
        None => Ok(ab),
    }
}

fn batchnorm(op: &Op, x: &[&Tensor]) -> Result<Tensor, String> {
    let eps = op
        .attr("epsilon")
        .and_then(Attribute::as_float)
        .unwrap_or(1e-5);
    let (input, scale, bias, mean, var) = (x[0], x[1], x[2], x[3], x[4]);
    let c = input.shape[1];
    let inner: usize = input.shape[2..].iter().product();
    let mut out = input.clone();
    for (i, v) in out.data.iter_mut().enumerate() {
        let ch = (i / inner) % c;
        *v = scale.data[ch] * (*v - mean.data[ch]) / (var.data[ch] + eps).sqrt() + bias.data[ch];
    }
    Ok(out)
}

/// Values of an op's operands must be tensors of the declared types; this
/// helper is shared with the verifier of other interpreters.
pub fn func_value_shape(func: &Func, v: ValueId) -> Vec<usize> {
    func.ty(v)
        .shape()
        .map(<[usize]>::to_vec)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chebyshev_matches_monomial() {
        // T0 + 2 T1 + 3 T2 on [-1, 1] is 1 + 2x + 3(2x^2 - 1) = -2 + 2x + 6x^2.
        for x in [-1.0, -0.3, 0.0, 0.5, 1.0] {
            let a = eval_polynomial(&[1.0, 2.0, 3.0], Some([-1.0, 1.0]), x);
            let b = eval_polynomial(&[-2.0, 2.0, 6.0], None, x);
            assert!((a - b).abs() < 1e-12);
        }
        // Domain mapping: on [0, 4], t = (x - 2) / 2.
        let y = eval_polynomial(&[0.0, 1.0], Some([0.0, 4.0]), 3.0);
        assert!((y - 0.5).abs() < 1e-12);
    }
}
