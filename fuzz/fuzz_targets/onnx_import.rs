//! ONNX import on arbitrary bytes and, through a structure-aware mutator,
//! on valid models changed in the ways that break importers: dimensions,
//! data types, raw data, attributes, node inputs and op types. Import must
//! fail with a diagnostic or give a module the verifier accepts.

#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use prost::Message;
use tract_onnx::pb::{ModelProto, TensorProto};

fuzz_target!(|data: &[u8]| {
    if let Ok(module) = orion_compiler::import_onnx_bytes(data, None) {
        if let Err(e) = orion_dialects::verify::verify_module(&module) {
            panic!("import gave a module the verifier refuses: {e}");
        }
    }
});

/// A small deterministic generator from the mutator's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A dimension that stresses shapes: 0, 1, huge, negative, or nearby.
fn odd_dim(rng: &mut Rng, d: i64) -> i64 {
    match rng.below(6) {
        0 => 0,
        1 => 1,
        2 => -1,
        3 => 1 << 40,
        4 => d.wrapping_mul(2),
        _ => d.wrapping_add(1),
    }
}

fn mutate_tensor(t: &mut TensorProto, rng: &mut Rng) {
    match rng.below(4) {
        0 if !t.dims.is_empty() => {
            let i = rng.below(t.dims.len());
            t.dims[i] = odd_dim(rng, t.dims[i]);
        }
        1 => t.data_type = rng.below(17) as i32,
        2 => {
            let n = t.raw_data.len();
            t.raw_data.truncate(rng.below(n + 1));
        }
        _ => t.dims.push(odd_dim(rng, 2)),
    }
}

fn mutate_model(m: &mut ModelProto, rng: &mut Rng) {
    let Some(g) = m.graph.as_mut() else {
        return;
    };
    match rng.below(6) {
        0 if !g.initializer.is_empty() => {
            let i = rng.below(g.initializer.len());
            mutate_tensor(&mut g.initializer[i], rng);
        }
        1 if !g.node.is_empty() => {
            let i = rng.below(g.node.len());
            let n = &mut g.node[i];
            if !n.attribute.is_empty() {
                let a = rng.below(n.attribute.len());
                let attr = &mut n.attribute[a];
                attr.i = odd_dim(rng, attr.i);
                if !attr.ints.is_empty() {
                    let k = rng.below(attr.ints.len());
                    attr.ints[k] = odd_dim(rng, attr.ints[k]);
                }
            }
        }
        2 if !g.node.is_empty() => {
            let i = rng.below(g.node.len());
            const TYPES: [&str; 8] = [
                "Gemm", "Conv", "Relu", "Add", "MaxPool", "Concat", "Reshape", "Nope",
            ];
            g.node[i].op_type = TYPES[rng.below(TYPES.len())].into();
        }
        3 if !g.node.is_empty() => {
            let i = rng.below(g.node.len());
            let n = &mut g.node[i];
            if !n.input.is_empty() {
                let k = rng.below(n.input.len());
                n.input[k] = match rng.below(2) {
                    0 => String::new(),
                    _ => "dangling".into(),
                };
            }
        }
        4 if !g.input.is_empty() => {
            let i = rng.below(g.input.len());
            if let Some(tract_onnx::pb::type_proto::Value::TensorType(tt)) =
                g.input[i].r#type.as_mut().and_then(|t| t.value.as_mut())
            {
                if let Some(d) = tt.shape.as_mut().and_then(|s| s.dim.first_mut()) {
                    d.value = Some(
                        tract_onnx::pb::tensor_shape_proto::dimension::Value::DimValue(odd_dim(
                            rng, 1,
                        )),
                    );
                }
            }
        }
        _ if g.node.len() > 1 => {
            let i = rng.below(g.node.len());
            g.node.remove(i);
        }
        _ => {}
    }
}

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = Rng(u64::from(seed) | 1);
    match ModelProto::decode(&data[..size]) {
        Ok(mut m) if rng.below(4) != 0 => {
            mutate_model(&mut m, &mut rng);
            let bytes = m.encode_to_vec();
            if bytes.len() <= max_size {
                data[..bytes.len()].copy_from_slice(&bytes);
                return bytes.len();
            }
            fuzzer_mutate(data, size, max_size)
        }
        _ => fuzzer_mutate(data, size, max_size),
    }
});
