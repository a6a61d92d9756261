//! The `ckks` dialect: the scheme-level program. Values are ciphertexts and
//! plaintexts whose types carry level and scale; the module records the CKKS
//! parameters (`ckks.params`) and the rotation steps it uses (`ckks.rotations`).
//!
//! | op | types |
//! |----|-------|
//! | `ckks.encrypt %t {layout = !pack.vec<..>, block?}` | tensor -> ct (client side); `block = j`: ciphertext j of a layout over several |
//! | `ckks.decrypt %c0, .. {layout = !pack.vec<..>}` | ct, one per block of the layout -> tensor (client side) |
//! | `ckks.encode {value = {..}}` | -> pt (see `plaintext`) |
//! | `ckks.add` / `ckks.sub` | ct, ct -> ct (same type) |
//! | `ckks.add_plain` | ct, pt -> ct (same level and scale) |
//! | `ckks.mul_plain` | ct, pt -> ct (scales multiply) |
//! | `ckks.mul` | ct, ct -> ct of degree 2 |
//! | `ckks.relinearize` | degree 2 -> degree 1 (one key switch) |
//! | `ckks.rescale` | level l -> l - 1, log_scale - log_q[l] |
//! | `ckks.level_down {level}` | drops limbs |
//! | `ckks.rotate {offset}` | slot rotation (one key switch) |
//! | `ckks.polynomial {basis, coeffs, domain, result_scale}` | ct -> ct, [`polynomial::depth`] levels lower |
//! | `ckks.bootstrap {bound, log_slots?}` | ct at any level -> ct at the top level and the default scale; every \|slot\| <= bound; `log_slots` for a layout repeating every 2^log_slots slots (sparse) |

pub mod interp;
pub mod liveness;
pub mod params;
pub mod plaintext;
pub mod polynomial;
pub mod types;

pub use params::ParamsAttr;
pub use types::{CtType, PtType};

use crate::ir::{Attribute, Func, Module, Op, Type};
use crate::pack::VecLayout;

fn ct(func: &Func, op: &Op, i: usize) -> Result<CtType, String> {
    CtType::from_type(func.ty(op.operands[i])).map_err(|e| format!("operand #{i}: {e}"))
}

fn pt(func: &Func, op: &Op, i: usize) -> Result<PtType, String> {
    PtType::from_type(func.ty(op.operands[i])).map_err(|e| format!("operand #{i}: {e}"))
}

fn counts(op: &Op, operands: usize) -> Result<(), String> {
    if op.operands.len() != operands || op.results.len() != 1 {
        return Err(format!(
            "expects {operands} operand(s) and 1 result, got {} and {}",
            op.operands.len(),
            op.results.len()
        ));
    }
    Ok(())
}

fn layout_attr(op: &Op) -> Result<VecLayout, String> {
    VecLayout::from_type(
        op.attr("layout")
            .and_then(Attribute::as_type)
            .ok_or("needs a 'layout' type attribute")?,
    )
}

fn same_level(a: usize, b: usize) -> Result<(), String> {
    if a != b {
        return Err(format!("operands are at different levels ({a} and {b})"));
    }
    Ok(())
}

fn same_scale(a: i64, b: i64) -> Result<(), String> {
    if a != b {
        return Err(format!("operands have different scales (2^{a} and 2^{b})"));
    }
    Ok(())
}

/// `t`, if its level is within the parameters' chain.
fn check_level(params: &ParamsAttr, t: CtType) -> Result<CtType, String> {
    if t.level > params.max_level() {
        return Err(format!(
            "level {} exceeds the parameters' top level {} (log_q has {} primes)",
            t.level,
            params.max_level(),
            params.log_q.len()
        ));
    }
    Ok(t)
}

/// The result type an op must have, from its operands and the parameters.
fn expected_result(
    op: &Op,
    func: &Func,
    params: &ParamsAttr,
    module: &Module,
) -> Result<Type, String> {
    match op.name.as_str() {
        "ckks.encrypt" => encrypt_result(op, func, params),
        "ckks.decrypt" => decrypt_result(op, func),
        "ckks.encode" => encode_result(op, func, params, module),
        "ckks.add" | "ckks.sub" => {
            counts(op, 2)?;
            let (a, b) = (ct(func, op, 0)?, ct(func, op, 1)?);
            same_level(a.level, b.level)?;
            same_scale(a.log_scale, b.log_scale)?;
            Ok(CtType {
                degree: a.degree.max(b.degree),
                ..a
            }
            .to_type())
        }
        "ckks.add_plain" | "ckks.mul_plain" => {
            counts(op, 2)?;
            let (a, p) = (ct(func, op, 0)?, pt(func, op, 1)?);
            same_level(a.level, p.level)?;
            if op.name == "ckks.add_plain" {
                same_scale(a.log_scale, p.log_scale)?;
                Ok(a.to_type())
            } else {
                Ok(CtType {
                    log_scale: a.log_scale + p.log_scale,
                    ..a
                }
                .to_type())
            }
        }
        "ckks.mul" => {
            counts(op, 2)?;
            let (a, b) = (ct(func, op, 0)?, ct(func, op, 1)?);
            same_level(a.level, b.level)?;
            if a.degree != 1 || b.degree != 1 {
                return Err("operands must be relinearized (degree 1)".into());
            }
            Ok(CtType {
                log_scale: a.log_scale + b.log_scale,
                degree: 2,
                ..a
            }
            .to_type())
        }
        "ckks.relinearize" => {
            counts(op, 1)?;
            let a = ct(func, op, 0)?;
            if a.degree != 2 {
                return Err("operand must have degree 2".into());
            }
            Ok(CtType { degree: 1, ..a }.to_type())
        }
        "ckks.rescale" => {
            counts(op, 1)?;
            let a = check_level(params, ct(func, op, 0)?)?;
            if a.level == 0 {
                return Err("cannot rescale a ciphertext at level 0: the network needs more levels than the parameters give".into());
            }
            Ok(CtType {
                level: a.level - 1,
                log_scale: a.log_scale - params.log_q[a.level] as i64,
                ..a
            }
            .to_type())
        }
        "ckks.level_down" => {
            counts(op, 1)?;
            let a = ct(func, op, 0)?;
            let to = op
                .attr("level")
                .and_then(Attribute::as_int)
                .ok_or("needs an integer 'level'")?;
            if to < 0 || to as usize > a.level {
                return Err(format!(
                    "cannot go from level {} down to level {to}",
                    a.level
                ));
            }
            Ok(CtType {
                level: to as usize,
                ..a
            }
            .to_type())
        }
        "ckks.rotate" => {
            counts(op, 1)?;
            let a = ct(func, op, 0)?;
            if a.degree != 1 {
                return Err("operand must be relinearized (degree 1)".into());
            }
            op.attr("offset")
                .and_then(Attribute::as_int)
                .ok_or("needs an integer 'offset'")?;
            Ok(a.to_type())
        }
        "ckks.polynomial" => polynomial_result(op, func, params),
        "ckks.bootstrap" => bootstrap_result(op, func, params),
        other => Err(format!("unknown op '{other}' in the ckks dialect")),
    }
}

/// `ckks.encrypt`: a tensor of the layout's size into a fresh ciphertext.
fn encrypt_result(op: &Op, func: &Func, params: &ParamsAttr) -> Result<Type, String> {
    counts(op, 1)?;
    let layout = layout_attr(op)?;
    if layout.slots != params.slots() {
        return Err(format!(
            "layout has {} slots, the parameters give {}",
            layout.slots,
            params.slots()
        ));
    }
    let n = func
        .ty(op.operands[0])
        .num_elements()
        .ok_or("operand must be a tensor")?;
    if n != layout.size {
        return Err(format!(
            "encrypts {n} elements into a layout of size {}",
            layout.size
        ));
    }
    interp::op_block(op, &layout)?;
    let t = check_level(params, CtType::from_type(func.ty(op.result()))?)?;
    if t.degree != 1 {
        return Err("a fresh ciphertext has degree 1".into());
    }
    Ok(t.to_type())
}

/// `ckks.decrypt`: every block of the layout back into the tensor.
fn decrypt_result(op: &Op, func: &Func) -> Result<Type, String> {
    let layout = layout_attr(op)?;
    counts(op, layout.blocks())?;
    for i in 0..layout.blocks() {
        ct(func, op, i)?;
    }
    let n = func
        .ty(op.result())
        .num_elements()
        .ok_or("result must be a tensor")?;
    if n != layout.size {
        return Err(format!(
            "decrypts a layout of size {} into {n} elements",
            layout.size
        ));
    }
    Ok(func.ty(op.result()).clone())
}

/// `ckks.encode`: a slot vector of the parameters' slot count.
fn encode_result(
    op: &Op,
    func: &Func,
    params: &ParamsAttr,
    module: &Module,
) -> Result<Type, String> {
    counts(op, 0)?;
    let value = op.attr("value").ok_or("needs a 'value' attribute")?;
    let slots = plaintext::encoded_slots(value, module)?;
    if slots != params.slots() {
        return Err(format!(
            "encodes {slots} slots, the parameters give {}",
            params.slots()
        ));
    }
    let t = PtType::from_type(func.ty(op.result()))?;
    check_level(params, CtType::new(t.level, t.log_scale))?;
    Ok(t.to_type())
}

/// `ckks.polynomial`: its depth in levels, its result scale.
fn polynomial_result(op: &Op, func: &Func, params: &ParamsAttr) -> Result<Type, String> {
    counts(op, 1)?;
    let a = check_level(params, ct(func, op, 0)?)?;
    if a.degree != 1 {
        return Err("operand must be relinearized (degree 1)".into());
    }
    let p = polynomial::from_op(op)?;
    let depth = polynomial::depth(&p);
    if depth > a.level {
        return Err(format!(
            "a polynomial of degree {} needs {depth} levels but its operand is at level {}: \
             the network needs more levels than the parameters give",
            polynomial::degree(&p),
            a.level
        ));
    }
    let level = a.level - depth;
    let log_scale = match polynomial::result_scale(op)? {
        polynomial::RESULT_SCALE_LEVEL_PRIME => {
            params.log_q[polynomial::prime_level(op, level)?] as i64
        }
        _ => {
            if op.attr("prime_level").is_some() {
                return Err("'prime_level' needs result_scale = \"level_prime\"".into());
            }
            a.log_scale
        }
    };
    Ok(CtType::new(level, log_scale).to_type())
}

/// `ckks.bootstrap`: back at the top level and the default scale.
fn bootstrap_result(op: &Op, func: &Func, params: &ParamsAttr) -> Result<Type, String> {
    counts(op, 1)?;
    let a = check_level(params, ct(func, op, 0)?)?;
    if a.degree != 1 {
        return Err("operand must be relinearized (degree 1)".into());
    }
    crate::pack::bootstrap_bound(op)?;
    if let Some(k) = op.attr("log_slots") {
        match k.as_int() {
            Some(k) if k >= 1 && k < params.log_n as i64 => {}
            _ => {
                return Err(format!(
                    "'log_slots' must be an integer from 1 to {} (log2 of the slots bootstrapped), got {k}",
                    params.log_n - 1
                ))
            }
        }
    }
    Ok(CtType::new(params.max_level(), params.log_scale as i64).to_type())
}

pub fn verify_op(op: &Op, func: &Func, module: &Module) -> Result<(), String> {
    let params = ParamsAttr::of_module(module)?;
    let want = expected_result(op, func, &params, module)?;
    let got = func.ty(op.result());
    if *got != want {
        return Err(format!("result has type {got}, expected {want}"));
    }
    if let Ok(CtType { level, .. }) = CtType::from_type(got) {
        if level > params.max_level() {
            return Err(format!(
                "result level {level} exceeds the parameters' top level {}",
                params.max_level()
            ));
        }
    }
    if op.name == "ckks.rotate" {
        let k = op.attr("offset").and_then(Attribute::as_int).unwrap_or(0);
        let slots = params.slots() as i64;
        if k.rem_euclid(slots) != 0
            && !params::rotations_of_module(module)
                .iter()
                .any(|&r| (r - k).rem_euclid(slots) == 0)
        {
            return Err(format!(
                "rotates by {k}, which is not among the module's 'ckks.rotations'"
            ));
        }
    }
    Ok(())
}
