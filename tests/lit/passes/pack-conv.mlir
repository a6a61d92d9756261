// pack (nn -> pack) of convolutions and pools: each becomes a pack.linear
// whose map is described compactly (the conv kernel stays a resource, with
// the conv or pool attributes and the input shape); the diagonals are derived
// from it. The input is 1-D (row-major NCHW, which is the multiplexed layout
// at gap 1); the stride-2 pool doubles the gap (channels interleaved on a 4x4
// grid), and the global pool, whose plane is 1x1, gives a 1-D vector.
// RUN: orion-opt --pass pack %s | FileCheck %s
// RUN: orion-opt --pass pack --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: orion-opt --passes pack,lower-to-ckks %s | FileCheck %s --check-prefix=CKKS

// CHECK-LABEL: func.func @main(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x1x1xf32> {
// CHECK-NOT:   nn.
// CHECK:       %[[P:.*]] = pack.pack %x : (tensor<1x1x4x4xf32>) -> !pack.vec<slots = 4096, size = 16, period = 16>
// CHECK-NEXT:  %[[C:.*]] = pack.linear %[[P]] {map = "conv2d", weights = dense_resource<conv_weight> : tensor<2x1x3x3xf32>, bias = dense_resource<conv_bias> : tensor<2xf32>, input_shape = array<i64: 1, 1, 4, 4>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, embedding = "hybrid", baby_steps = 4} : (!pack.vec<slots = 4096, size = 16, period = 16>) -> !pack.vec<slots = 4096, size = 32, period = 32> loc("/conv/Conv")
// CHECK-NEXT:  %[[S:.*]] = pack.square %[[C]]
// CHECK-NEXT:  %[[A:.*]] = pack.linear %[[S]] {map = "avgpool", input_shape = array<i64: 1, 2, 4, 4>, kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = true, embedding = "hybrid", baby_steps = 4} : (!pack.vec<slots = 4096, size = 32, period = 32>) -> !pack.vec<slots = 4096, size = 8, period = 16, shape = [2, 2, 2], gap = 2> loc("/pool/AveragePool")
// CHECK-NEXT:  %[[G:.*]] = pack.linear %[[A]] {map = "avgpool", input_shape = array<i64: 1, 2, 2, 2>, kernel = array<i64: 2, 2>, {{.*}}} : (!pack.vec<slots = 4096, size = 8, period = 16, shape = [2, 2, 2], gap = 2>) -> !pack.vec<slots = 4096, size = 2, period = 2> loc("/gap/GlobalAveragePool")
// CHECK-NEXT:  %[[U:.*]] = pack.unpack %[[G]] : (!pack.vec<slots = 4096, size = 2, period = 2>) -> tensor<1x2x1x1xf32>
// CHECK-NEXT:  return %[[U]] : tensor<1x2x1x1xf32>

// The encode values name the map, and the conv bias repeats per channel.
// CKKS:        ckks.encode {value = {kind = "diagonal", map = "conv2d", weights = dense_resource<conv_weight> : tensor<2x1x3x3xf32>, input_shape = array<i64: 1, 1, 4, 4>, {{.*}}, input = !pack.vec<slots = 4096, size = 16, period = 16>, baby_steps = 4, index = 0, giant = 0}}
// CKKS:        ckks.encode {value = {kind = "vector", values = dense_resource<conv_bias> : tensor<2xf32>, layout = !pack.vec<slots = 4096, size = 32, period = 32>, repeat = 16}}
// A result layout other than the 1-D one is part of the encode value.
// CKKS:        ckks.encode {value = {kind = "diagonal", map = "avgpool", input_shape = array<i64: 1, 2, 4, 4>, {{.*}}, input = !pack.vec<slots = 4096, size = 32, period = 32>, output = !pack.vec<slots = 4096, size = 8, period = 16, shape = [2, 2, 2], gap = 2>, baby_steps = 4, index = 0, giant = 0}}

// STATS:      pack
// STATS-NEXT:   (linear-layers) 3

module {
  func.func @main(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x1x1xf32> {
    %0 = nn.constant {value = dense_resource<conv_weight> : tensor<2x1x3x3xf32>} : tensor<2x1x3x3xf32> loc("/conv/Conv")
    %1 = nn.constant {value = dense_resource<conv_bias> : tensor<2xf32>} : tensor<2xf32> loc("/conv/Conv")
    %2 = nn.conv2d %x, %0, %1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32> loc("/conv/Conv")
    %3 = nn.square %2 : tensor<1x2x4x4xf32> loc("/act/Mul")
    %4 = nn.avgpool %3 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = true} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> loc("/pool/AveragePool")
    %5 = nn.global_avgpool %4 : (tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32> loc("/gap/GlobalAveragePool")
    return %5 : tensor<1x2x1x1xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      conv_weight: "0x04000000000000BF000000000000003F000080BE0000803E000000BF000000000000003F000080BE0000803E000000BF000000000000003F000080BE0000803E000000BF000000000000003F",
      conv_bias: "0x040000000000003F000080BE"
    }
  }
#-}
