// The generic form is valid upstream MLIR: mlir-opt reads it and its own
// output (which is what we parse back) still round-trips through orion-opt.
// REQUIRES: mlir-opt
// RUN: orion-opt --emit-generic %s | FileCheck %s --check-prefix=GENERIC
// RUN: orion-opt --mlir-print-op-generic %s | mlir-opt --allow-unregistered-dialect | FileCheck %s --check-prefix=UPSTREAM
// RUN: orion-opt --emit-generic %s | mlir-opt --allow-unregistered-dialect --mlir-print-op-generic | orion-opt - | FileCheck %s --check-prefix=BACK

// GENERIC: "builtin.module"() ({
// GENERIC:   "func.func"() <{function_type = (tensor<1x4xf32>) -> tensor<1x2xf32>, sym_name = "main"}> ({
// GENERIC:   ^bb0(%{{.*}}: tensor<1x4xf32>):
// GENERIC:     %{{.*}} = "nn.constant"() {value = dense_resource<fc_weight> : tensor<2x4xf32>} : () -> tensor<2x4xf32>
// GENERIC:     %{{.*}} = "nn.gemm"(%{{.*}}, %{{.*}}) {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
// GENERIC:     %{{.*}} = "nn.square"(%{{.*}}) : (tensor<1x2xf32>) -> tensor<1x2xf32>
// GENERIC:     "func.return"(%{{.*}}) : (tensor<1x2xf32>) -> ()
// GENERIC: fc_weight: "0x04000000

// UPSTREAM:      module {
// UPSTREAM-NEXT:   func.func @main(%[[ARG:.*]]: tensor<1x4xf32>) -> tensor<1x2xf32> {
// UPSTREAM-NEXT:     %[[W:.*]] = "nn.constant"() {value = dense_resource<fc_weight> : tensor<2x4xf32>} : () -> tensor<2x4xf32>
// UPSTREAM-NEXT:     %[[G:.*]] = "nn.gemm"(%[[ARG]], %[[W]]) {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
// UPSTREAM-NEXT:     %[[S:.*]] = "nn.square"(%[[G]]) : (tensor<1x2xf32>) -> tensor<1x2xf32>
// UPSTREAM-NEXT:     return %[[S]] : tensor<1x2xf32>
// UPSTREAM:      fc_weight: "0x040000000000003F000080BE0000803F000000400000C0BF0000003E0000403F000000C0"

// BACK: func.func @main(%{{.*}}: tensor<1x4xf32>) -> tensor<1x2xf32> {
// BACK:   nn.gemm
// BACK:   nn.square
// BACK:   return

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = nn.constant {value = dense_resource<fc_weight> : tensor<2x4xf32>} : tensor<2x4xf32>
  %0 = nn.gemm %x, %w {trans_b = true} : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  %1 = nn.square %0 : tensor<1x2xf32>
  return %1 : tensor<1x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      fc_weight: "0x040000000000003F000080BE0000803F000000400000C0BF0000003E0000403F000000C0"
    }
  }
#-}
