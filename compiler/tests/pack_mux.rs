//! Orion's multiplexed packing, tested differentially: random-weight conv
//! networks run through the `nn` interpreter and, after the `pack` pass,
//! through the `pack` interpreter (which evaluates exactly the rotations and
//! diagonals the ciphertext program will), and once further through
//! `lower-to-ckks` and the cleartext `ckks` interpreter. Both sides compute
//! in f64, so they agree to rounding: the bound is 1e-9 relative to the
//! largest output. Each net also checks the layouts the pass chose (the gap
//! that strides multiply), so that a silent fallback to the 1-D layout
//! fails the test.

mod conv_nets;

use conv_nets::{conv_attrs, resnet20, Lcg, Net};
use orion_compiler::{pack_stats, PassManager, PassOptions};
use orion_dialects::ckks::ParamsAttr;
use orion_dialects::nn::conv::{Conv2dAttrs, PoolAttrs};
use orion_dialects::{nn, pack, Module};

const BOUND: f64 = 1e-9;

fn options(log_n: u32) -> PassOptions {
    PassOptions {
        params: ParamsAttr {
            log_n,
            ..ParamsAttr::mnist_mlp()
        },
        ..PassOptions::default()
    }
}

fn run(module: &mut Module, passes: &[&str], opts: &PassOptions) {
    let mut pm = PassManager::new();
    for p in passes {
        pm.add_by_name(p, opts).unwrap();
    }
    pm.run(module, |_, _| {}).unwrap();
}

/// The layout text (`32x16x16 g2`) of every linear layer's result, in order.
fn linear_layouts(packed: &Module) -> Vec<String> {
    let (rows, _) = pack_stats::collect(packed).unwrap();
    rows.iter()
        .filter(|r| r.counts.is_some())
        .map(|r| pack_stats::layout_text(&r.output, r.output_shape))
        .collect()
}

/// Packs `net` at 2^(log_n - 1) slots, checks the pack interpreter against
/// the nn one on `samples` random inputs, and returns the packed module.
fn check_pack(net: &Module, log_n: u32, samples: usize, what: &str) -> Module {
    let mut packed = net.clone();
    run(&mut packed, &["canonicalize", "pack"], &options(log_n));
    let input_shape = net.main().unwrap().arg_types()[0].shape().unwrap().to_vec();
    let mut rng = Lcg::new(7);
    let mut worst = 0f64;
    for _ in 0..samples {
        let x = rng.tensor(&input_shape);
        let want = &nn::interpret(net, std::slice::from_ref(&x)).unwrap()[0];
        let got = &pack::interpret(&packed, std::slice::from_ref(&x)).unwrap()[0];
        assert_eq!(got.shape, want.shape);
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!("{what}: pack vs nn, max relative error {worst:.2e} over {samples} inputs");
    assert!(
        worst < BOUND,
        "{what}: pack vs nn relative error {worst} >= {BOUND}"
    );
    packed
}

/// Strides 1, 2, 2 chain the gap 1 -> 2 -> 4, with residual adds at gap 1
/// and gap 2 (one of a network input), symmetric and asymmetric pads, a
/// global pool and a gemm.
#[test]
fn chained_strides_multiply_the_gap() {
    let (mut net, x) = Net::new(&[1, 4, 16, 16], 1);
    let same = conv_attrs([1, 1], [1, 1, 1, 1]);
    let c0 = net.conv("/c0", x, 4, [3, 3], same.clone());
    let r0 = net.add("/r0", c0, x);
    let a0 = net.act("/a0", r0);
    let c1 = net.conv("/c1", a0, 8, [3, 3], same.clone());
    let a1 = net.act("/a1", c1);
    let c2 = net.conv("/c2", a1, 8, [3, 3], conv_attrs([2, 2], [1, 1, 1, 1]));
    let a2 = net.act("/a2", c2);
    let c3 = net.conv("/c3", a2, 8, [3, 3], same);
    let r3 = net.add("/r3", c3, a2);
    let a3 = net.act("/a3", r3);
    // Asymmetric pads: nothing above and left, one below and right.
    let c4 = net.conv("/c4", a3, 16, [3, 3], conv_attrs([2, 2], [0, 0, 1, 1]));
    let a4 = net.act("/a4", c4);
    let g = net.global_avgpool("/gap", a4);
    let f = net.flatten("/flat", g);
    let y = net.gemm("/fc", f, 10);
    let packed = check_pack(&net.finish(&[y]), 15, 3, "chained strides");
    assert_eq!(
        linear_layouts(&packed),
        [
            "4x16x16 g1",
            "8x16x16 g1",
            "8x8x8 g2",
            "8x8x8 g2",
            "16x4x4 g4",
            "16",
            "10"
        ]
    );
}

/// Concatenations along channels: of operands that fill whole planes
/// (gap 2 on a strided branch: one rotation each), of channel counts that
/// do not (several diagonals), of three branches (an Inception block), and
/// along the flattened axis after a gemm; a spatial zero pad that feeds no
/// convolution is a placement too. A conv operand is widened by
/// canonicalize to write into the concatenation itself; the others are
/// placed. Checks the pack interpreter against nn, the layouts and that
/// each placement is one linear layer.
#[test]
fn concatenations_and_lone_pads_are_placements() {
    let (mut net, x) = Net::new(&[1, 3, 8, 8], 5);
    let same = conv_attrs([1, 1], [1, 1, 1, 1]);
    // Inception-style block at gap 1: 1x1, 3x3 and a pool branch.
    let b1 = net.conv("/b1", x, 2, [1, 1], conv_attrs([1, 1], [0; 4]));
    let b3 = net.conv("/b3", x, 3, [3, 3], same.clone());
    let a3 = net.act("/a3", b3);
    let pool = PoolAttrs {
        kernel: [3, 3],
        strides: [1, 1],
        pads: [1, 1, 1, 1],
        count_include_pad: false,
    };
    let bp = net.avgpool("/bp", x, pool);
    let cat = net.concat("/cat", &[b1, a3, bp], 1);
    let a = net.act("/a", cat);
    // Strided: gap 2, 4 channels per plane; 4 + 8 channels fill planes.
    let s1 = net.conv("/s1", a, 4, [3, 3], conv_attrs([2, 2], [1, 1, 1, 1]));
    let s2 = net.conv("/s2", a, 8, [3, 3], conv_attrs([2, 2], [1, 1, 1, 1]));
    let s2 = net.act("/s2a", s2);
    let cat2 = net.concat("/cat2", &[s1, s2], 1);
    // A spatial pad alone: 4x4 -> 5x6.
    let padded = net.pad("/pad", cat2, &[0, 0, 0, 1, 0, 0, 1, 1]);
    let g = net.global_avgpool("/gap", padded);
    let f = net.flatten("/flat", g);
    let y1 = net.gemm("/fc1", f, 5);
    let y2 = net.gemm("/fc2", f, 3);
    let y = net.concat("/head", &[y1, y2], 1);
    let packed = check_pack(&net.finish(&[y]), 13, 3, "concatenations");
    assert_eq!(
        linear_layouts(&packed),
        [
            "3x8x8 g1",
            "3x8x8 g1",
            // canonicalize widened /b1 to the 8 channels of /cat: it writes
            // them in place; the activation and the pool are placed.
            "8x8x8 g1",
            "8x8x8 g1",
            "8x8x8 g1",
            "8x4x4 g2",
            // /s1 widened likewise; /s2's activation placed.
            "12x4x4 g2",
            "12x4x4 g2",
            "12x5x6 g2",
            "12",
            "5",
            "3",
            "8",
            "8"
        ]
    );
    let (rows, _) = pack_stats::collect(&packed).unwrap();
    let places: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "place")
        .map(|r| (r.layer.as_str(), r.counts.as_ref().unwrap().diagonals))
        .collect();
    // /s2's 8 channels after /s1's 4 fill two planes of 4: one diagonal.
    assert_eq!(
        places
            .iter()
            .filter(|(l, _)| *l == "/cat2")
            .map(|p| p.1)
            .collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(places.len(), 6, "{places:?}");
}

/// A residual add whose branches were packed differently (a stride-2 conv
/// at gap 2, a 5x5 conv without padding at gap 1 on the input's grid):
/// the second is moved into the first's layout by one placement.
#[test]
fn residual_add_of_different_layouts_is_relaid_out() {
    let (mut net, x) = Net::new(&[1, 4, 8, 8], 1);
    let strided = net.conv("/down", x, 4, [3, 3], conv_attrs([2, 2], [1, 1, 1, 1]));
    let valid = net.conv("/valid", x, 4, [5, 5], conv_attrs([1, 1], [0; 4]));
    let sum = net.add("/block/Add", strided, valid);
    let packed = check_pack(&net.finish(&[sum]), 13, 3, "relaid-out residual add");
    let (rows, _) = pack_stats::collect(&packed).unwrap();
    let place = rows
        .iter()
        .find(|r| r.kind == "place")
        .expect("a placement");
    assert_eq!(place.layer, "/block/Add");
    assert_eq!(place.output.gap(), [2, 2]);
}

/// Grouped and depthwise convs with asymmetric pads, an avgpool as a
/// strided depthwise conv, a conv without padding (its result stays on the
/// input's grid), and a gemm straight after the convs, reading the
/// multiplexed layout.
#[test]
fn groups_pools_valid_convs_and_a_gemm_after_convs() {
    let (mut net, x) = Net::new(&[1, 6, 12, 12], 2);
    let grouped = Conv2dAttrs {
        pads: [1, 0, 1, 2],
        groups: 3,
        ..Conv2dAttrs::default()
    };
    let c0 = net.conv("/grouped", x, 6, [3, 3], grouped);
    let a0 = net.act("/a0", c0);
    let depthwise = Conv2dAttrs {
        pads: [1, 1, 1, 1],
        groups: 6,
        ..Conv2dAttrs::default()
    };
    let c1 = net.conv("/depthwise", a0, 6, [3, 3], depthwise);
    let pool = PoolAttrs {
        kernel: [2, 2],
        strides: [2, 2],
        pads: [0; 4],
        count_include_pad: true,
    };
    let p = net.avgpool("/pool", c1, pool);
    let a1 = net.act("/a1", p);
    let c2 = net.conv("/valid", a1, 4, [3, 3], Conv2dAttrs::default());
    let f = net.flatten("/flat", c2);
    let y = net.gemm("/fc", f, 7);
    let packed = check_pack(&net.finish(&[y]), 13, 3, "groups, pools, valid conv");
    assert_eq!(
        linear_layouts(&packed),
        [
            "6x12x12 g1",
            "6x12x12 g1",
            "6x6x6 g2",
            "4x4x4 g2 on 12x12",
            "7"
        ]
    );
}

/// Non-square strides give a non-square gap (Orion refuses them); dilation
/// with a stride; a padded avgpool that does not count the padding; a
/// stride larger than the kernel.
#[test]
fn non_square_strides_dilations_and_padded_pools() {
    let (mut net, x) = Net::new(&[1, 3, 12, 12], 3);
    let c0 = net.conv("/wide", x, 4, [3, 3], conv_attrs([1, 2], [1, 1, 1, 1]));
    let a0 = net.act("/a0", c0);
    let dilated = Conv2dAttrs {
        strides: [2, 2],
        pads: [2, 2, 2, 2],
        dilations: [2, 2],
        groups: 1,
    };
    let c1 = net.conv("/dilated", a0, 5, [3, 3], dilated);
    let pool = PoolAttrs {
        kernel: [3, 3],
        strides: [1, 1],
        pads: [1, 1, 1, 1],
        count_include_pad: false,
    };
    let p = net.avgpool("/pool", c1, pool);
    let a1 = net.act("/a1", p);
    let c2 = net.conv("/skip", a1, 3, [1, 1], conv_attrs([3, 1], [0; 4]));
    let f = net.flatten("/flat", c2);
    let y = net.gemm("/fc", f, 4);
    let packed = check_pack(&net.finish(&[y]), 13, 3, "non-square strides");
    assert_eq!(
        linear_layouts(&packed),
        ["4x12x6 g1x2", "5x6x3 g2x4", "5x6x3 g2x4", "3x2x3 g6x4", "4"]
    );
}

/// ResNet-20's topology at 2^15 slots: gaps 1, 2, 4 and its residual adds
/// (a 1x1 stride-2 shortcut conv where the main branch downsamples).
#[test]
fn resnet20_topology_agrees_with_nn() {
    let packed = check_pack(&resnet20(11), 16, 1, "ResNet-20 topology");
    let layouts = linear_layouts(&packed);
    assert_eq!(layouts.len(), 23);
    assert_eq!(layouts[0], "16x32x32 g1");
    assert_eq!(layouts[7], "32x16x16 g2"); // layer2.0 conv1
    assert_eq!(layouts[14], "64x8x8 g4"); // layer3.0 conv1
    assert_eq!(layouts[21..], ["64", "10"]);
}

/// The ckks program built from the multiplexed plans (encode values carry
/// the result layouts) computes what the pack interpreter computes: the
/// cleartext ckks interpreter against it.
#[test]
fn ckks_lowering_of_multiplexed_layouts_agrees_with_pack() {
    let (mut net, x) = Net::new(&[1, 2, 8, 8], 4);
    let c0 = net.conv("/c0", x, 4, [3, 3], conv_attrs([1, 1], [1, 1, 1, 1]));
    let s0 = net.square("/s0", c0);
    let c1 = net.conv("/c1", s0, 4, [3, 3], conv_attrs([2, 2], [1, 1, 1, 1]));
    let s1 = net.square("/s1", c1);
    let c2 = net.conv("/c2", s1, 8, [3, 3], conv_attrs([2, 2], [1, 0, 1, 2]));
    let g = net.global_avgpool("/gap", c2);
    let f = net.flatten("/flat", g);
    let y = net.gemm("/fc", f, 3);
    let packed = check_pack(&net.finish(&[y]), 14, 2, "small conv net");
    assert_eq!(
        linear_layouts(&packed),
        ["4x8x8 g1", "4x4x4 g2", "8x2x2 g4", "8", "3"]
    );
    let mut lowered = packed.clone();
    let opts = PassOptions {
        params: ParamsAttr::lenet5_square(),
        output_bound: orion_dialects::ckks::params::LENET5_OUTPUT_BOUND,
        ..PassOptions::default()
    };
    run(&mut lowered, &["lower-to-ckks"], &opts);
    let mut rng = Lcg::new(5);
    let mut worst = 0f64;
    for _ in 0..2 {
        let x = rng.tensor(&[1, 2, 8, 8]);
        let want = &pack::interpret(&packed, std::slice::from_ref(&x)).unwrap()[0];
        let got = &orion_dialects::ckks::interp::interpret(&lowered, std::slice::from_ref(&x))
            .unwrap()[0];
        worst = worst.max(got.max_rel_diff(want));
    }
    eprintln!("small conv net: cleartext ckks vs pack, max relative error {worst:.2e}");
    assert!(worst < BOUND, "ckks vs pack: {worst}");
}
