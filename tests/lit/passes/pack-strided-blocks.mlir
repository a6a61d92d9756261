// A ResNet downsampling block across ciphertexts (4096 slots): the 8x32x32
// input takes two ciphertexts of four whole planes; the stride-2 3x3 conv
// and the stride-2 1x1 projection shortcut each read both and write one
// (16x16x16 at gap 2 is four 32x32 grids, 4096 slots), so the residual add
// meets its operands in one ciphertext and the same layout. Every block
// matrix (output 0, input i) holds diagonals: both input ciphertexts are
// multiplied, and their products are summed before the giant rotations.
// RUN: orion-opt --pass pack %s | FileCheck %s
// RUN: orion-opt --pass pack --stats %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: orion-opt --passes pack,lower-to-ckks %s | FileCheck %s --check-prefix=CKKS

// CHECK:      pack.pack %x : (tensor<1x8x32x32xf32>) -> !pack.vec<slots = 4096, size = 8192, period = 4096>
// CHECK:      pack.linear {{.*}} : (!pack.vec<slots = 4096, size = 8192, period = 4096>) -> !pack.vec<slots = 4096, size = 4096, period = 4096, shape = [16, 16, 16], gap = 2> loc("/conv/Conv")
// CHECK:      pack.linear {{.*}} : (!pack.vec<slots = 4096, size = 8192, period = 4096>) -> !pack.vec<slots = 4096, size = 4096, period = 4096, shape = [16, 16, 16], gap = 2> loc("/shortcut/Conv")
// CHECK:      pack.add {{.*}} : !pack.vec<slots = 4096, size = 4096, period = 4096, shape = [16, 16, 16], gap = 2> loc("/res/Add")

// STATS:      layer op cts input span/period output span/period diags baby giant out depth
// STATS-NEXT: /conv/Conv conv2d 3x3 s2 2->1 8x32x32 g1 8192/4096 16x16x16 g2 4096/4096 128 14 11 0 1
// STATS-NEXT: /shortcut/Conv conv2d 1x1 s2 2->1 8x32x32 g1 8192/4096 16x16x16 g2 4096/4096 32 6 3 0 1
// STATS-NEXT: /res/Add add 1->1

// Two encryptions (one per input ciphertext); diagonals of both blocks
// (0, 0) and (0, 1) of each conv.
// CKKS-COUNT-2: ckks.encrypt
// CKKS:         ckks.encode {value = {kind = "diagonal", map = "conv2d", {{.*}}block = array<i64: 0, 0>{{.*}}loc("/conv/Conv")
// CKKS:         ckks.encode {value = {kind = "diagonal", map = "conv2d", {{.*}}block = array<i64: 0, 1>{{.*}}loc("/conv/Conv")

module {
  func.func @main(%x: tensor<1x8x32x32xf32>) -> tensor<1x16x16x16xf32> {
    %w1 = nn.constant {value = dense<0.125> : tensor<16x8x3x3xf32>} : tensor<16x8x3x3xf32> loc("/conv/Conv")
    %c1 = nn.conv2d %x, %w1 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x8x32x32xf32>, tensor<16x8x3x3xf32>) -> tensor<1x16x16x16xf32> loc("/conv/Conv")
    %w2 = nn.constant {value = dense<0.25> : tensor<16x8x1x1xf32>} : tensor<16x8x1x1xf32> loc("/shortcut/Conv")
    %c2 = nn.conv2d %x, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<1x8x32x32xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x16x16xf32> loc("/shortcut/Conv")
    %add = nn.add %c1, %c2 : (tensor<1x16x16x16xf32>, tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32> loc("/res/Add")
    return %add : tensor<1x16x16x16xf32>
  }
}
