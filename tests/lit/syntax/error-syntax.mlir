// RUN: not orion-opt %s 2>&1 | FileCheck %s
// A syntax error: the op's result list is missing its `=`.
// CHECK: {{^.*}}error-syntax.mlir:[[@LINE+4]]:8: error: expected ',', '=' or ':', found 'nn.square'{{$}}
// CHECK-NOT: panicked

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0   nn.square %x : tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}
