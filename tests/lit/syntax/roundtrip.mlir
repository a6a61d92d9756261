// Custom form in, custom form out, and printing is a fixed point.
// RUN: orion-opt %s | FileCheck %s
// RUN: orion-opt %s > %t.1.mlir && orion-opt %t.1.mlir > %t.2.mlir && diff %t.1.mlir %t.2.mlir
// RUN: cat %s | orion-opt - | FileCheck %s

// CHECK-LABEL: module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26>, log_scale = 26}} {
// CHECK-NEXT:   func.func @main(%input: tensor<1x4xf32>) -> tensor<1x2xf32> {
// CHECK-NEXT:     %w = nn.constant {value = dense_resource<fc_weight> : tensor<2x4xf32>} : tensor<2x4xf32>
// CHECK-NEXT:     %b = nn.constant {value = dense<[0.5, -0.25]> : tensor<2xf32>} : tensor<2xf32>
// CHECK-NEXT:     %0 = nn.gemm %input, %w, %b {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/fc/Gemm")
// CHECK-NEXT:     %1 = nn.square %0 : tensor<1x2xf32> loc("/act/Mul")
// CHECK-NEXT:     return %1 : tensor<1x2xf32>
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK:      {-#
// CHECK-NEXT:   dialect_resources: {
// CHECK-NEXT:     builtin: {
// CHECK-NEXT:       fc_weight: "0x040000000000003F000080BE0000803F000000400000C0BF0000003E0000403F000000C0"
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: #-}

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26>, log_scale = 26}} {
  func.func @main(%input: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %w = nn.constant {value = dense_resource<fc_weight> : tensor<2x4xf32>} : tensor<2x4xf32>
    %b = nn.constant {value = dense<[0.5, -0.25]> : tensor<2xf32>} : tensor<2xf32>
    // Comments and blank lines are dropped.

    %0 = nn.gemm %input, %w, %b {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("/fc/Gemm")
    %1 = nn.square %0 : tensor<1x2xf32> loc("/act/Mul")
    return %1 : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      fc_weight: "0x040000000000003F000080BE0000803F000000400000C0BF0000003E0000403F000000C0"
    }
  }
#-}
