//! Cleartext reference semantics of the `ckks` dialect: the oracle the
//! encrypted run (`orion_runtime::interp`) is checked against.
//!
//! Ciphertexts and plaintexts are plain slot vectors of `params.slots()`
//! reals. Encryption packs the tensor with the op's layout, decryption
//! unpacks it; `encode` materialises the slot vector its value describes
//! ([`super::plaintext::materialize`]); additions and products are slotwise;
//! `relinearize`, `rescale` and `level_down` leave the values unchanged (they
//! only manage noise and scale, which do not exist here); `rotate` is a
//! cyclic left rotation.
//!
//! ```text
//! %c = ckks.encrypt %x {layout = !pack.vec<slots = 4, size = 3, period = 4>}   // [x0 x1 x2 0]
//! %r = ckks.rotate %c {offset = 1}                                             // [x1 x2 0 x0]
//! ```

use super::{params::ParamsAttr, plaintext};
use crate::diag::Diagnostic;
use crate::ir::{Attribute, Func, Module, Op};
use crate::pack::{linear::rotate_slots, VecLayout};
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
enum Value {
    Tensor(Tensor),
    Slots(Vec<f64>),
}

/// Runs `@main` of a `ckks` module on cleartext tensors; returns the tensors
/// it returns.
pub fn interpret(module: &Module, inputs: &[Tensor]) -> Result<Vec<Tensor>, Diagnostic> {
    interpret_observed(module, inputs, &mut |_, _| {})
}

/// [`interpret`], calling `observe(op, slots)` with every op's slot-vector
/// result (ciphertexts and plaintexts): used to measure value ranges, e.g.
/// the headroom of each ciphertext below its modulus.
pub fn interpret_observed(
    module: &Module,
    inputs: &[Tensor],
    observe: &mut dyn FnMut(&Op, &[f64]),
) -> Result<Vec<Tensor>, Diagnostic> {
    let func = module
        .main()
        .ok_or_else(|| Diagnostic::new(Default::default(), "module has no func.func @main"))?;
    let params = ParamsAttr::of_module(module).map_err(|m| Diagnostic::new(func.loc.clone(), m))?;
    crate::interp_memory::check_interpreter_memory(func, params.slots(), true)?;
    if inputs.len() != func.args.len() {
        return Err(Diagnostic::new(
            func.loc.clone(),
            format!(
                "@main takes {} inputs, got {}",
                func.args.len(),
                inputs.len()
            ),
        ));
    }
    let mut env: Vec<Option<Value>> = vec![None; func.values.len()];
    for (&a, t) in func.args.iter().zip(inputs) {
        let slot = env.get_mut(a.0 as usize).ok_or_else(|| {
            Diagnostic::new(func.loc.clone(), "an argument lies outside the value table")
        })?;
        *slot = Some(Value::Tensor(t.clone()));
    }
    let uses = func.use_counts();
    let mut remaining = uses.clone();
    let first_stages = crate::fitted_range::first_stages(
        func,
        "ckks.polynomial",
        &["ckks.bootstrap", "ckks.level_down", "ckks.rescale"],
    );
    for (k, op) in func.body.iter().enumerate() {
        let mut args = Vec::with_capacity(op.operands.len());
        for v in &op.operands {
            let i = v.0 as usize;
            let val = env.get(i).and_then(Option::as_ref).ok_or_else(|| {
                Diagnostic::new(
                    op.loc.clone(),
                    format!("{} uses an undefined value", op.label()),
                )
            })?;
            args.push(val.clone());
        }
        if op.name == "func.return" {
            return args
                .into_iter()
                .map(|v| match v {
                    Value::Tensor(t) => Ok(t),
                    Value::Slots(_) => Err(Diagnostic::new(
                        op.loc.clone(),
                        "@main must return tensors (decrypt them first)",
                    )),
                })
                .collect();
        }
        // Drop values after their last use to bound memory on large programs.
        for v in &op.operands {
            let i = v.0 as usize;
            remaining[i] = remaining[i].saturating_sub(1);
            if remaining[i] == 0 {
                env[i] = None;
            }
        }
        if let (true, Some(Value::Slots(x))) = (first_stages[k], args.first()) {
            crate::fitted_range::check(op, x);
        }
        let out = eval_op(op, &args, func, module, &params)
            .map_err(|m| Diagnostic::new(op.loc.clone(), format!("{} {m}", op.label())))?;
        if let Value::Slots(v) = &out {
            observe(op, v);
        }
        let r = op.results.first().ok_or_else(|| {
            Diagnostic::new(op.loc.clone(), format!("{} has no result", op.label()))
        })?;
        if let Some(slot) = env.get_mut(r.0 as usize) {
            *slot = Some(out);
        }
    }
    Err(Diagnostic::new(
        func.loc.clone(),
        "@main has no func.return",
    ))
}

fn slots(v: &Value) -> Result<&[f64], String> {
    match v {
        Value::Slots(s) => Ok(s),
        Value::Tensor(_) => Err("expects a ciphertext or plaintext, got a tensor".into()),
    }
}

fn binary(args: &[Value], f: impl Fn(f64, f64) -> f64) -> Result<Value, String> {
    if args.len() != 2 {
        return Err(format!("expects 2 operands, got {}", args.len()));
    }
    let (a, b) = (slots(&args[0])?, slots(&args[1])?);
    if a.len() != b.len() {
        return Err(format!("operands have {} and {} slots", a.len(), b.len()));
    }
    Ok(Value::Slots(
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect(),
    ))
}

fn unary(args: &[Value]) -> Result<&[f64], String> {
    match args {
        [a] => slots(a),
        _ => Err(format!("expects 1 operand, got {}", args.len())),
    }
}

/// The `layout` attribute of an encrypt/decrypt op, checked against the slot count.
pub fn op_layout(op: &Op, slots: usize) -> Result<VecLayout, String> {
    let layout = VecLayout::from_type(
        op.attr("layout")
            .and_then(Attribute::as_type)
            .ok_or("needs a 'layout' type attribute")?,
    )?;
    if layout.slots != slots {
        return Err(format!(
            "layout has {} slots, the parameters give {slots}",
            layout.slots
        ));
    }
    Ok(layout)
}

/// The block (ciphertext) of a layout over several that a `ckks.encrypt`
/// fills: its `block` attribute, required when the layout has more than one.
pub fn op_block(op: &Op, layout: &VecLayout) -> Result<usize, String> {
    let blocks = layout.blocks();
    match op.attr("block") {
        None if blocks == 1 => Ok(0),
        None => Err(format!(
            "its layout spans {blocks} ciphertexts: it needs a 'block' (0..{blocks})"
        )),
        Some(a) => match a.as_int() {
            Some(b) if b >= 0 && (b as usize) < blocks => Ok(b as usize),
            _ => Err(format!(
                "'block' must be an integer below the layout's {blocks} ciphertext(s), got {a}"
            )),
        },
    }
}

/// The slots of ciphertext `block` of a tensor packed into `layout`,
/// checking its size (never panics).
pub fn pack_tensor(layout: &VecLayout, t: &Tensor, block: usize) -> Result<Vec<f64>, String> {
    if t.data.len() != layout.size {
        return Err(format!(
            "encrypts a tensor of {} elements into a layout of size {}",
            t.data.len(),
            layout.size
        ));
    }
    let n = layout.slots;
    let mut all = layout.pack(&t.data);
    if block >= layout.blocks() {
        return Err(format!(
            "block {block} of a layout over {} ciphertexts",
            layout.blocks()
        ));
    }
    all.truncate((block + 1) * n);
    Ok(all.split_off(block * n))
}

/// Unpacks the slots of a layout's ciphertexts, in block order, into a
/// tensor of the op's result shape (never panics).
pub fn unpack_tensor(
    layout: &VecLayout,
    blocks: &[&[f64]],
    shape: &[usize],
) -> Result<Tensor, String> {
    let n: usize = shape.iter().product();
    if blocks.len() != layout.blocks() {
        return Err(format!(
            "decrypts {} ciphertext(s) of a layout over {}",
            blocks.len(),
            layout.blocks()
        ));
    }
    let slots: Vec<f64> = if blocks.len() == 1 {
        blocks[0].to_vec()
    } else {
        blocks
            .iter()
            .flat_map(|b| b.iter().take(layout.slots).copied())
            .collect()
    };
    if n != layout.size || slots.len() < layout.span() {
        return Err(format!(
            "decrypts a layout of size {} ({} slots) into a tensor of {n} elements",
            layout.size,
            slots.len()
        ));
    }
    Ok(Tensor::new(shape.to_vec(), layout.unpack(&slots)))
}

fn eval_op(
    op: &Op,
    args: &[Value],
    func: &Func,
    module: &Module,
    params: &ParamsAttr,
) -> Result<Value, String> {
    let result = *op.results.first().ok_or("has no result")?;
    let result_ty = func
        .values
        .get(result.0 as usize)
        .map(|d| &d.ty)
        .ok_or("result outside the value table")?;
    Ok(match op.name.as_str() {
        "ckks.encrypt" => {
            let t = match args {
                [Value::Tensor(t)] => t,
                _ => return Err("expects one tensor operand".into()),
            };
            let layout = op_layout(op, params.slots())?;
            Value::Slots(pack_tensor(&layout, t, op_block(op, &layout)?)?)
        }
        "ckks.decrypt" => {
            let shape = result_ty.shape().ok_or("result must be a tensor")?;
            let blocks = args.iter().map(slots).collect::<Result<Vec<_>, _>>()?;
            Value::Tensor(unpack_tensor(
                &op_layout(op, params.slots())?,
                &blocks,
                shape,
            )?)
        }
        "ckks.encode" => {
            let v = plaintext::materialize(
                op.attr("value").ok_or("needs a 'value' attribute")?,
                module,
            )?;
            if v.len() != params.slots() {
                return Err(format!(
                    "encodes {} slots, the parameters give {}",
                    v.len(),
                    params.slots()
                ));
            }
            Value::Slots(v)
        }
        "ckks.add" | "ckks.add_plain" => binary(args, |a, b| a + b)?,
        "ckks.sub" => binary(args, |a, b| a - b)?,
        "ckks.mul" | "ckks.mul_plain" => binary(args, |a, b| a * b)?,
        "ckks.relinearize" | "ckks.rescale" | "ckks.level_down" => {
            Value::Slots(unary(args)?.to_vec())
        }
        "ckks.rotate" => {
            let k = op
                .attr("offset")
                .and_then(Attribute::as_int)
                .ok_or("needs an integer 'offset'")?;
            let v = unary(args)?;
            if v.is_empty() {
                return Err("rotates an empty slot vector".into());
            }
            Value::Slots(rotate_slots(v, k))
        }
        "ckks.polynomial" => {
            let p = super::polynomial::from_op(op)?;
            Value::Slots(unary(args)?.iter().map(|&x| p.eval(x)).collect())
        }
        "ckks.bootstrap" => {
            let bound = crate::pack::bootstrap_bound(op)?;
            let x = unary(args)?;
            if let Some(v) = x.iter().find(|v| v.abs() > bound) {
                return Err(format!("input {v} exceeds the bootstrap bound {bound}"));
            }
            Value::Slots(x.to_vec())
        }
        other => return Err(format!("has no reference semantics ('{other}')")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ckks::{params::ROTATIONS_ATTR, CtType, PtType};
    use crate::ir::{Location, Type};

    fn params() -> ParamsAttr {
        ParamsAttr {
            log_n: 12,
            log_q: vec![40, 30, 30],
            log_p: vec![40],
            log_scale: 30,
            hamming_weight: None,
            insecure: true,
            bootstrap: None,
        }
    }

    /// encrypt, rotate by 1, mul_plain by a weight vector, rescale, add a
    /// bias, decrypt.
    fn module() -> (Module, Vec<f32>, Vec<f32>) {
        let p = params();
        let slots = p.slots();
        let mut m = Module::default();
        m.set_attr("ckks.params", p.to_attr());
        m.set_attr(ROTATIONS_ATTR, Attribute::I64Array(vec![1]));
        let layout = VecLayout::replicated(slots, 4).unwrap();
        let w = vec![1.0f32, -2.0, 0.5, 3.0];
        let b = vec![0.25f32, 0.5, -1.0, 2.0];
        let wname = m.add_f32_resource("w", &w);
        let bname = m.add_f32_resource("b", &b);
        let res = |name: String| Attribute::DenseResource {
            name,
            ty: Type::f32_tensor(&[4]),
        };
        let wv = plaintext::vector_attr(&res(wname), &layout);
        let bv = plaintext::vector_attr(&res(bname), &layout);
        let mut f = Func::new("main");
        let x = f.add_arg(Type::f32_tensor(&[4]), None);
        let top = p.max_level();
        let ct = |l: usize, s: i64| CtType::new(l, s).to_type();
        let lay = || vec![("layout".to_string(), Attribute::Type(layout.to_type()))];
        let c = f.push_op(
            "ckks.encrypt",
            vec![x],
            lay(),
            vec![ct(top, 30)],
            Location::Unknown,
        )[0];
        let r = f.push_op(
            "ckks.rotate",
            vec![c],
            vec![("offset".into(), Attribute::Int(1))],
            vec![ct(top, 30)],
            Location::Unknown,
        )[0];
        let pw = f.push_op(
            "ckks.encode",
            vec![],
            vec![("value".into(), wv)],
            vec![PtType {
                level: top,
                log_scale: 30,
            }
            .to_type()],
            Location::Unknown,
        )[0];
        let mp = f.push_op(
            "ckks.mul_plain",
            vec![r, pw],
            vec![],
            vec![ct(top, 60)],
            Location::Unknown,
        )[0];
        let rs = f.push_op(
            "ckks.rescale",
            vec![mp],
            vec![],
            vec![ct(top - 1, 30)],
            Location::Unknown,
        )[0];
        let pb = f.push_op(
            "ckks.encode",
            vec![],
            vec![("value".into(), bv)],
            vec![PtType {
                level: top - 1,
                log_scale: 30,
            }
            .to_type()],
            Location::Unknown,
        )[0];
        let ap = f.push_op(
            "ckks.add_plain",
            vec![rs, pb],
            vec![],
            vec![ct(top - 1, 30)],
            Location::Unknown,
        )[0];
        let out = f.push_op(
            "ckks.decrypt",
            vec![ap],
            lay(),
            vec![Type::f32_tensor(&[4])],
            Location::Unknown,
        )[0];
        f.push_op("func.return", vec![out], vec![], vec![], Location::Unknown);
        m.funcs.push(f);
        (m, w, b)
    }

    #[test]
    fn rotate_mul_plain_rescale_add_bias() {
        let (m, w, b) = module();
        crate::verify::verify_module(&m).unwrap();
        let x = [1.0, 2.0, 3.0, 4.0];
        let out = interpret(&m, &[Tensor::new(vec![4], x.to_vec())]).unwrap();
        // period 4: rotation by 1 is cyclic inside the period.
        let want: Vec<f64> = (0..4)
            .map(|i| x[(i + 1) % 4] * w[i] as f64 + b[i] as f64)
            .collect();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].shape, vec![4]);
        assert_eq!(out[0].data, want);
    }

    #[test]
    fn observer_sees_every_slot_result() {
        let (m, _, _) = module();
        let mut names = Vec::new();
        interpret_observed(&m, &[Tensor::new(vec![4], vec![1.0; 4])], &mut |op, v| {
            assert_eq!(v.len(), params().slots());
            names.push(op.name.clone());
        })
        .unwrap();
        assert_eq!(names.len(), 7, "{names:?}"); // all but decrypt and return
    }

    #[test]
    fn wrong_input_size_is_an_error() {
        let (m, _, _) = module();
        let e = interpret(&m, &[Tensor::new(vec![3], vec![1.0, 2.0, 3.0])]).unwrap_err();
        assert!(e.to_string().contains("'ckks.encrypt' op"), "{e}");
        let e = interpret(&m, &[]).unwrap_err();
        assert!(e.to_string().contains("takes 1 inputs"), "{e}");
    }

    #[test]
    fn sub_and_mul() {
        let (mut m, _, _) = module();
        // Replace the body by (x - rot(x)) * x after encryption.
        let f = m.main_mut().unwrap();
        let keep = f.body[..2].to_vec(); // encrypt, rotate
        let (c, r) = (keep[0].result(), keep[1].result());
        f.body = keep;
        let t = CtType::new(2, 30).to_type();
        let s = f.push_op(
            "ckks.sub",
            vec![c, r],
            vec![],
            vec![t.clone()],
            Location::Unknown,
        )[0];
        let mu = f.push_op(
            "ckks.mul",
            vec![s, c],
            vec![],
            vec![CtType {
                degree: 2,
                ..CtType::new(2, 60)
            }
            .to_type()],
            Location::Unknown,
        )[0];
        let rl = f.push_op(
            "ckks.relinearize",
            vec![mu],
            vec![],
            vec![CtType::new(2, 60).to_type()],
            Location::Unknown,
        )[0];
        let rs = f.push_op(
            "ckks.rescale",
            vec![rl],
            vec![],
            vec![CtType::new(1, 30).to_type()],
            Location::Unknown,
        )[0];
        let ld = f.push_op(
            "ckks.level_down",
            vec![rs],
            vec![("level".into(), Attribute::Int(0))],
            vec![CtType::new(0, 30).to_type()],
            Location::Unknown,
        )[0];
        let layout = VecLayout::replicated(params().slots(), 4).unwrap();
        let out = f.push_op(
            "ckks.decrypt",
            vec![ld],
            vec![("layout".into(), Attribute::Type(layout.to_type()))],
            vec![Type::f32_tensor(&[2, 2])],
            Location::Unknown,
        )[0];
        f.push_op("func.return", vec![out], vec![], vec![], Location::Unknown);
        crate::verify::verify_module(&m).unwrap();
        let x = [1.0, 2.0, 3.0, 4.0];
        let out = interpret(&m, &[Tensor::new(vec![4], x.to_vec())]).unwrap();
        let want: Vec<f64> = (0..4).map(|i| (x[i] - x[(i + 1) % 4]) * x[i]).collect();
        assert_eq!(out[0].shape, vec![2, 2]);
        assert_eq!(out[0].data, want);
    }
}
