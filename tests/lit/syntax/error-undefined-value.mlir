// RUN: not orion-opt %s 2>&1 | FileCheck %s
// CHECK: {{^.*}}error-undefined-value.mlir:[[@LINE+4]]:18: error: use of undefined value '%y'{{$}}
// CHECK-NOT: panicked

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = nn.square %y : tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}
