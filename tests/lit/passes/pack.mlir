// pack (nn -> pack): each Gemm becomes a pack.linear over slot vectors (the
// weights stay a resource, the diagonals are derived from them), the square a
// pack.square, with pack.pack / pack.unpack at the boundaries.
// RUN: orion-opt --pass pack %s | FileCheck %s
// RUN: orion-opt --pass pack --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// The square embedding: fc1's result at the input's period 4, no rotate-and-sum.
// RUN: orion-opt --pass pack --embedding square %s | FileCheck %s --check-prefix=SQUARE
// RUN: orion-opt --pass pack --embedding square %s -o %t.square.mlir
// RUN: orion-opt --pass pack %s -o %t.hybrid.mlir
// RUN: orion-run %t.square.mlir --input %S/../inputs/four.npy | FileCheck %s --check-prefix=SAME
// RUN: orion-run %t.hybrid.mlir --input %S/../inputs/four.npy | FileCheck %s --check-prefix=SAME
// A square embedding whose result period is below the input's is refused:
// RUN: sed 's/embedding = "hybrid", baby_steps = 2} : (!pack.vec<slots = 4096, size = 4,/embedding = "square", baby_steps = 2} : (!pack.vec<slots = 4096, size = 4,/' %t.hybrid.mlir | not orion-opt - 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
// CHECK-NOT:   nn.
// CHECK:       %[[P:.*]] = pack.pack %x : (tensor<1x4xf32>) -> !pack.vec<slots = 4096, size = 4, period = 4>
// CHECK-NEXT:  %[[L1:.*]] = pack.linear %[[P]] {weights = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>, bias = dense_resource<fc1_Gemm_bias_bn> : tensor<2xf32>, embedding = "hybrid", baby_steps = 2} : (!pack.vec<slots = 4096, size = 4, period = 4>) -> !pack.vec<slots = 4096, size = 2, period = 2> loc("/fc1/Gemm")
// CHECK-NEXT:  %[[S:.*]] = pack.square %[[L1]] : !pack.vec<slots = 4096, size = 2, period = 2> loc("/act1/Mul")
// CHECK-NEXT:  %[[L2:.*]] = pack.linear %[[S]] {{{.*}}weights = dense_resource<fc2_Gemm_weight> : tensor<2x2xf32>{{.*}}} : !pack.vec<slots = 4096, size = 2, period = 2> loc("/fc2/Gemm")
// CHECK-NEXT:  %[[U:.*]] = pack.unpack %[[L2]] : (!pack.vec<slots = 4096, size = 2, period = 2>) -> tensor<1x2xf32>
// CHECK-NEXT:  return %[[U]] : tensor<1x2xf32>
// CHECK-NOT:   nn.

// SQUARE:      pack.linear %{{[0-9]+}} {weights = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>, bias = dense_resource<fc1_Gemm_bias_bn> : tensor<2xf32>, embedding = "square", baby_steps = {{[0-9]+}}} : (!pack.vec<slots = 4096, size = 4, period = 4>) -> !pack.vec<slots = 4096, size = 2, period = 4> loc("/fc1/Gemm")
// SAME:        image 0: logits [107.9922, 59.6406] class 0
// BAD:         error: 'pack.linear' op (node "/fc1/Gemm") the "square" embedding needs the result's period (2) to be at least the input's (4): no rotate-and-sum

// STATS:      pack
// STATS-NEXT:   (linear-layers) 2
// STATS-NEXT:   (diagonals) 4

module {
  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %0 = nn.constant {value = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>} : tensor<2x4xf32> loc("/fc1/Gemm")
    %1 = nn.constant {value = dense_resource<fc1_Gemm_bias_bn> : tensor<2xf32>} : tensor<2xf32> loc("/fc1/Gemm")
    %2 = nn.gemm %x, %0, %1 {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/fc1/Gemm")
    %3 = nn.square %2 : tensor<1x2xf32> loc("/act1/Mul")
    %4 = nn.constant {value = dense_resource<fc2_Gemm_weight> : tensor<2x2xf32>} : tensor<2x2xf32> loc("/fc2/Gemm")
    %5 = nn.constant {value = dense_resource<fc2_Gemm_bias> : tensor<2xf32>} : tensor<2xf32> loc("/fc2/Gemm")
    %6 = nn.gemm %3, %4, %5 {trans_b = true} : (tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/fc2/Gemm")
    return %6 : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      fc1_Gemm_weight_bn: "0x040000000000003F000080BE0000803F00000040000040BF0000803D0000C03E000080BF",
      fc1_Gemm_bias_bn: "0x04000000000000BF0000B03F",
      fc2_Gemm_weight: "0x040000000000803F000000BF0000003F0000803F",
      fc2_Gemm_bias: "0x040000000000000000000000"
    }
  }
#-}
