//! Random-weight convolutional networks built at the `nn` level, for the
//! packing tests: a small builder (conv, pools, residual add, flatten, gemm,
//! a polynomial activation) and the CIFAR ResNet topologies (3x32x32 input,
//! stages of basic blocks, stride-2 downsampling with 1x1 stride-2 shortcut
//! convs, global average pool, 10 classes): ResNet-20 (16/32/64 channels,
//! three blocks per stage) and ResNet-18 (64/128/256/512, two per stage).

#![allow(dead_code)] // each test file uses part of the builder

use orion_dialects::ckks::ParamsAttr;
use orion_dialects::ir::{Attribute, Func, Location, Module, ValueId};
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use orion_dialects::tensor::Tensor;
use orion_dialects::Type;

/// Deterministic pseudo-random values in [-1, 1).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }

    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    pub fn values(&mut self, n: usize, scale: f64) -> Vec<f32> {
        (0..n).map(|_| (self.next() * scale) as f32).collect()
    }

    pub fn tensor(&mut self, shape: &[usize]) -> Tensor {
        let n = shape.iter().product();
        Tensor::new(shape.to_vec(), (0..n).map(|_| self.next()).collect())
    }
}

pub struct Net {
    pub module: Module,
    func: Func,
    rng: Lcg,
}

fn shape(func: &Func, v: ValueId) -> Vec<usize> {
    func.ty(v).shape().expect("a tensor").to_vec()
}

impl Net {
    /// A network of one input of `input` shape; returns it and the input.
    pub fn new(input: &[usize], seed: u64) -> (Net, ValueId) {
        let mut func = Func::new("main");
        let x = func.add_arg(Type::f32_tensor(input), Some("x".into()));
        let net = Net {
            module: Module::default(),
            func,
            rng: Lcg::new(seed),
        };
        (net, x)
    }

    pub fn shape(&self, v: ValueId) -> Vec<usize> {
        shape(&self.func, v)
    }

    fn constant(&mut self, name: &str, shape: &[usize], values: &[f32]) -> ValueId {
        let res = self.module.add_f32_resource(name, values);
        let ty = Type::f32_tensor(shape);
        self.func.push_op(
            "nn.constant",
            vec![],
            vec![(
                "value".into(),
                Attribute::DenseResource {
                    name: res,
                    ty: ty.clone(),
                },
            )],
            vec![ty],
            Location::Name(name.into()),
        )[0]
    }

    fn op(
        &mut self,
        name: &str,
        op: &str,
        operands: Vec<ValueId>,
        attrs: Vec<(String, Attribute)>,
        out: &[usize],
    ) -> ValueId {
        self.func.push_op(
            op,
            operands,
            attrs,
            vec![Type::f32_tensor(out)],
            Location::Name(name.into()),
        )[0]
    }

    /// A conv with `cout` output channels, a `kernel` and random weights of
    /// scale 1/sqrt(fan-in), and a bias.
    pub fn conv(
        &mut self,
        name: &str,
        x: ValueId,
        cout: usize,
        kernel: [usize; 2],
        attrs: Conv2dAttrs,
    ) -> ValueId {
        let input = self.shape(x);
        let w_shape = [cout, input[1] / attrs.groups, kernel[0], kernel[1]];
        let fan_in = (w_shape[1] * kernel[0] * kernel[1]) as f64;
        let w = self
            .rng
            .values(w_shape.iter().product(), 1.0 / fan_in.sqrt());
        let b = self.rng.values(cout, 0.1);
        let out = attrs
            .output_shape(&input, &w_shape, Some(&[cout]))
            .expect("a valid conv");
        let wv = self.constant(&format!("{name}_w"), &w_shape, &w);
        let bv = self.constant(&format!("{name}_b"), &[cout], &b);
        self.op(name, "nn.conv2d", vec![x, wv, bv], attrs.to_attrs(), &out)
    }

    pub fn avgpool(&mut self, name: &str, x: ValueId, attrs: PoolAttrs) -> ValueId {
        let out = attrs.output_shape(&self.shape(x)).expect("a valid pool");
        self.op(name, "nn.avgpool", vec![x], attrs.to_attrs(), &out)
    }

    pub fn global_avgpool(&mut self, name: &str, x: ValueId) -> ValueId {
        let s = self.shape(x);
        self.op(
            name,
            "nn.global_avgpool",
            vec![x],
            vec![],
            &[s[0], s[1], 1, 1],
        )
    }

    /// The activation 0.5 x + 0.25 x^2, which keeps random activations
    /// bounded through many layers (and costs a level, as x^2 would).
    pub fn act(&mut self, name: &str, x: ValueId) -> ValueId {
        let s = self.shape(x);
        let attrs = vec![
            (
                "coeffs".to_string(),
                Attribute::F64Array(vec![0.0, 0.5, 0.25]),
            ),
            ("basis".to_string(), Attribute::String("monomial".into())),
        ];
        self.op(name, "nn.polynomial", vec![x], attrs, &s)
    }

    pub fn square(&mut self, name: &str, x: ValueId) -> ValueId {
        let s = self.shape(x);
        self.op(name, "nn.square", vec![x], vec![], &s)
    }

    pub fn add(&mut self, name: &str, a: ValueId, b: ValueId) -> ValueId {
        let s = self.shape(a);
        self.op(name, "nn.add", vec![a, b], vec![], &s)
    }

    /// `nn.concat` of `xs` along `axis`.
    pub fn concat(&mut self, name: &str, xs: &[ValueId], axis: usize) -> ValueId {
        let mut s = self.shape(xs[0]);
        s[axis] = xs.iter().map(|&x| self.shape(x)[axis]).sum();
        let attrs = vec![("axis".to_string(), Attribute::Int(axis as i64))];
        self.op(name, "nn.concat", xs.to_vec(), attrs, &s)
    }

    /// `nn.pad` of `x` by `pads` (ONNX order).
    pub fn pad(&mut self, name: &str, x: ValueId, pads: &[usize]) -> ValueId {
        let s = self.shape(x);
        let out = orion_dialects::nn::pad::shape(&s, pads).expect("a valid pad");
        let attrs = vec![(
            "pads".to_string(),
            Attribute::I64Array(pads.iter().map(|&p| p as i64).collect()),
        )];
        self.op(name, "nn.pad", vec![x], attrs, &out)
    }

    pub fn flatten(&mut self, name: &str, x: ValueId) -> ValueId {
        let s = self.shape(x);
        let n = s[1..].iter().product();
        let axis = ("axis".to_string(), Attribute::Int(1));
        self.op(name, "nn.flatten", vec![x], vec![axis], &[1, n])
    }

    /// `x W^T + b` with `out` outputs.
    pub fn gemm(&mut self, name: &str, x: ValueId, out: usize) -> ValueId {
        let n = self.shape(x)[1];
        let w = self.rng.values(out * n, 1.0 / (n as f64).sqrt());
        let b = self.rng.values(out, 0.1);
        let wv = self.constant(&format!("{name}_w"), &[out, n], &w);
        let bv = self.constant(&format!("{name}_b"), &[out], &b);
        let trans_b = ("trans_b".to_string(), Attribute::Bool(true));
        self.op(name, "nn.gemm", vec![x, wv, bv], vec![trans_b], &[1, out])
    }

    pub fn finish(mut self, outputs: &[ValueId]) -> Module {
        self.func.push_op(
            "func.return",
            outputs.to_vec(),
            vec![],
            vec![],
            Location::Unknown,
        );
        self.module.funcs.push(self.func);
        orion_dialects::verify::verify_module(&self.module).expect("a valid nn module");
        self.module
    }
}

/// A dense network too wide for 512 slots (1600 -> 700 -> 300 -> 600, two
/// polynomial activations): at [`block_test_params`] its input takes 4
/// ciphertexts and its output 2, so every gemm is a block matrix.
pub fn wide_mlp() -> Module {
    let (mut net, x) = Net::new(&[1, 1, 40, 40], 9);
    let f = net.flatten("/flatten", x);
    let h1 = net.gemm("/fc1", f, 700);
    let a1 = net.act("/act1", h1);
    let h2 = net.gemm("/fc2", a1, 300);
    let a2 = net.act("/act2", h2);
    let y = net.gemm("/fc3", a2, 600);
    net.finish(&[y])
}

/// LeNet-5's 11 levels at LogN 10 (512 slots), INSECURE: for tests of the
/// block-matrix mechanism only.
pub fn block_test_params() -> ParamsAttr {
    ParamsAttr {
        log_n: 10,
        insecure: true,
        ..ParamsAttr::lenet5_square()
    }
}

pub fn conv_attrs(stride: [usize; 2], pads: [usize; 4]) -> Conv2dAttrs {
    Conv2dAttrs {
        strides: stride,
        pads,
        ..Conv2dAttrs::default()
    }
}

/// ResNet-20's topology with random weights (no batchnorm: folded into the
/// convs it would be just other weights) and the activation `act`.
pub fn resnet20(seed: u64) -> Module {
    resnet_cifar(seed, 16, &[(16, 3), (32, 3), (64, 3)])
}

/// The standard CIFAR ResNet-18 (He et al.'s basic blocks as in the common
/// CIFAR code: 3x3 stem of 64 channels, stages of 64/128/256/512 channels
/// with two blocks each), random weights.
pub fn resnet18_cifar(seed: u64) -> Module {
    resnet_cifar(seed, 64, &[(64, 2), (128, 2), (256, 2), (512, 2)])
}

/// A CIFAR ResNet of basic blocks on 3x32x32: a 3x3 stem of `stem`
/// channels, then per stage `(channels, blocks)`, stride 2 and a 1x1
/// stride-2 projection shortcut on the first block of every stage but the
/// first; global average pool, dense 10.
pub fn resnet_cifar(seed: u64, stem: usize, stages: &[(usize, usize)]) -> Module {
    let (mut net, x) = Net::new(&[1, 3, 32, 32], seed);
    let same = conv_attrs([1, 1], [1, 1, 1, 1]);
    let mut h = net.conv("/conv1/Conv", x, stem, [3, 3], same.clone());
    h = net.act("/relu/Relu", h);
    for (s, &(channels, blocks)) in stages.iter().enumerate() {
        let stage = s + 1;
        for block in 0..blocks {
            let p = format!("/layer{stage}/layer{stage}.{block}");
            let stride = if stage > 1 && block == 0 { 2 } else { 1 };
            let first = conv_attrs([stride, stride], [1, 1, 1, 1]);
            let mut y = net.conv(&format!("{p}/conv1/Conv"), h, channels, [3, 3], first);
            y = net.act(&format!("{p}/relu1/Relu"), y);
            y = net.conv(
                &format!("{p}/conv2/Conv"),
                y,
                channels,
                [3, 3],
                same.clone(),
            );
            let shortcut = if stride == 2 {
                let down = conv_attrs([2, 2], [0; 4]);
                net.conv(&format!("{p}/shortcut/Conv"), h, channels, [1, 1], down)
            } else {
                h
            };
            y = net.add(&format!("{p}/Add"), y, shortcut);
            h = net.act(&format!("{p}/relu2/Relu"), y);
        }
    }
    let g = net.global_avgpool("/pool/GlobalAveragePool", h);
    let f = net.flatten("/Flatten", g);
    let out = net.gemm("/fc/Gemm", f, 10);
    net.finish(&[out])
}
