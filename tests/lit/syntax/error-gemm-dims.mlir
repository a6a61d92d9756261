// The parser accepts it; the nn.gemm verifier rejects the inner dimensions
// (1x4 times 3x2).
// RUN: not orion-opt %s 2>&1 | FileCheck %s
// RUN: not orion-opt --verify-only %s 2>&1 | FileCheck %s
// CHECK: {{^.*}}error-gemm-dims.mlir:[[@LINE+5]]:3: error: 'nn.gemm' op inner dimensions differ: 4 vs 3{{$}}
// CHECK-NOT: panicked

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = nn.constant {value = dense<1.0> : tensor<3x2xf32>} : tensor<3x2xf32>
  %0 = nn.gemm %x, %w : (tensor<1x4xf32>, tensor<3x2xf32>) -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}
