// RUN: not orion-opt %s 2>&1 | FileCheck %s
// An operand used at a type other than its definition's.
// CHECK: {{^.*}}error-type-mismatch.mlir:[[@LINE+4]]:18: error: use of value '%x' expects different type than prior uses: 'tensor<1x8xf32>' vs 'tensor<1x4xf32>'{{$}}
// CHECK-NOT: panicked

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x8xf32> {
  %0 = nn.square %x : tensor<1x8xf32>
  return %0 : tensor<1x8xf32>
}
