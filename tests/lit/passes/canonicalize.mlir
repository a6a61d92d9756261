// canonicalize: BatchNorm folded into the preceding Gemm (weights and bias
// rewritten into new resources), x*x becomes nn.square, Gemm gets an explicit
// zero bias and default alpha/beta dropped.
// RUN: orion-opt --pass canonicalize %s | FileCheck %s
// RUN: orion-opt --pass canonicalize --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: orion-opt --pass canonicalize --print-ir-after=canonicalize %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=DUMP

// CHECK-LABEL: func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
// CHECK-NOT:   nn.batchnorm
// CHECK:       %[[W1:.*]] = nn.constant {value = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>}
// CHECK:       %[[B1:.*]] = nn.constant {value = dense_resource<fc1_Gemm_bias_bn> : tensor<2xf32>}
// CHECK:       %[[G1:.*]] = nn.gemm %x, %[[W1]], %[[B1]] {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/fc1/Gemm")
// CHECK-NEXT:  %[[SQ:.*]] = nn.square %[[G1]] : tensor<1x2xf32> loc("/act1/Mul")
// CHECK:       nn.gemm %[[SQ]], {{.*}} loc("/fc2/Gemm")
// CHECK-NOT:   nn.batchnorm
// CHECK:       dialect_resources
// Row 0 scaled by 2/sqrt(4) = 1, row 1 by 0.5/sqrt(1): [-0.75, 0.0625, 0.375, -1.0].
// CHECK-DAG:   fc1_Gemm_weight_bn: "0x040000000000003F000080BE0000803F00000040000040BF0000803D0000C03E000080BF"
// Bias: (0.5 - 1) * 1 + 0 = -0.5 and (-0.25 + 1) * 0.5 + 1 = 1.375.
// CHECK-DAG:   fc1_Gemm_bias_bn: "0x04000000000000BF0000B03F"

// STATS:      canonicalize
// STATS-NEXT:   (batchnorms-folded) 1
// STATS:        (squares) 1

// DUMP: // -----// IR Dump After canonicalize //----- //
// DUMP: nn.square

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w1 = nn.constant {value = dense_resource<fc1_weight> : tensor<2x4xf32>} : tensor<2x4xf32>
  %b1 = nn.constant {value = dense<[0.5, -0.25]> : tensor<2xf32>} : tensor<2xf32>
  %0 = nn.gemm %x, %w1, %b1 {trans_b = true, alpha = 1.0, beta = 1.0} : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/fc1/Gemm")
  %g = nn.constant {value = dense<[2.0, 0.5]> : tensor<2xf32>} : tensor<2xf32>
  %beta = nn.constant {value = dense<[0.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %mean = nn.constant {value = dense<[1.0, -1.0]> : tensor<2xf32>} : tensor<2xf32>
  %var = nn.constant {value = dense<[4.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %1 = nn.batchnorm %0, %g, %beta, %mean, %var {epsilon = 0.0} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/bn1/BatchNormalization")
  %2 = nn.mul %1, %1 : tensor<1x2xf32> loc("/act1/Mul")
  %w2 = nn.constant {value = dense_resource<fc2_weight> : tensor<2x2xf32>} : tensor<2x2xf32>
  %3 = nn.gemm %2, %w2 {trans_b = true} : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32> loc("/fc2/Gemm")
  return %3 : tensor<1x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      fc1_weight: "0x040000000000003F000080BE0000803F000000400000C0BF0000003E0000403F000000C0",
      fc2_weight: "0x040000000000803F000000BF0000003F0000803F"
    }
  }
#-}
