// optimize-ckks (egg): lazy rescale, rescale(a) + rescale(b) -> rescale(a + b),
// and the giant-step rotation moved before the rescale: 5 rescales become 3,
// levels and results unchanged.
// RUN: orion-opt --pass optimize-ckks %s | FileCheck %s
// RUN: orion-opt --pass optimize-ckks --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS

// CHECK-LABEL: func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
// CHECK:       %[[M0:.*]] = ckks.mul_plain %0, {{.*}} -> !ckks.ct<level = 5, log_scale = 52> loc("/fc1/Gemm")
// CHECK-NOT:   ckks.rescale
// CHECK:       %[[M1:.*]] = ckks.mul_plain %1, {{.*}} -> !ckks.ct<level = 5, log_scale = 52> loc("/fc1/Gemm")
// CHECK-NEXT:  %[[S:.*]] = ckks.add %[[M0]], %[[M1]] : !ckks.ct<level = 5, log_scale = 52>
// CHECK-NEXT:  %[[R:.*]] = ckks.rotate %[[S]] {offset = 2} : !ckks.ct<level = 5, log_scale = 52>
// CHECK-NEXT:  %[[T:.*]] = ckks.add %[[S]], %[[R]] : !ckks.ct<level = 5, log_scale = 52>
// CHECK-NEXT:  ckks.rescale %[[T]] : (!ckks.ct<level = 5, log_scale = 52>) -> !ckks.ct<level = 4, log_scale = 26>
// CHECK:       ckks.decrypt %{{.*}} : (!ckks.ct<level = 2, log_scale = 26>) -> tensor<1x2xf32>
// RUN: orion-opt --pass optimize-ckks %s | grep -c ckks.rescale | FileCheck %s --check-prefix=COUNT
// COUNT: {{^3$}}

// STATS:      optimize-ckks
// STATS:        (rescales-before) 5
// STATS-NEXT:   (rescales-after) 3

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64: 1, 2>} {
  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<1x4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %1 = ckks.rotate %0 {offset = 1} : !ckks.ct<level = 5, log_scale = 26> loc("/fc1/Gemm")
    %2 = ckks.encode {value = {kind = "diagonal", weights = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>, input = !pack.vec<slots = 4096, size = 4, period = 4>, baby_steps = 2, index = 0, giant = 0}} : !ckks.pt<level = 5, log_scale = 26> loc("/fc1/Gemm")
    %3 = ckks.mul_plain %0, %2 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.pt<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52> loc("/fc1/Gemm")
    %4 = ckks.rescale %3 : (!ckks.ct<level = 5, log_scale = 52>) -> !ckks.ct<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %5 = ckks.encode {value = {kind = "diagonal", weights = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>, input = !pack.vec<slots = 4096, size = 4, period = 4>, baby_steps = 2, index = 1, giant = 0}} : !ckks.pt<level = 5, log_scale = 26> loc("/fc1/Gemm")
    %6 = ckks.mul_plain %1, %5 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.pt<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52> loc("/fc1/Gemm")
    %7 = ckks.rescale %6 : (!ckks.ct<level = 5, log_scale = 52>) -> !ckks.ct<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %8 = ckks.add %4, %7 : !ckks.ct<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %9 = ckks.rotate %8 {offset = 2} : !ckks.ct<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %10 = ckks.add %8, %9 : !ckks.ct<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %11 = ckks.encode {value = {kind = "vector", values = dense_resource<fc1_Gemm_bias_bn> : tensor<2xf32>, layout = !pack.vec<slots = 4096, size = 2, period = 2>}} : !ckks.pt<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %12 = ckks.add_plain %10, %11 : (!ckks.ct<level = 4, log_scale = 26>, !ckks.pt<level = 4, log_scale = 26>) -> !ckks.ct<level = 4, log_scale = 26> loc("/fc1/Gemm")
    %13 = ckks.mul %12, %12 : (!ckks.ct<level = 4, log_scale = 26>, !ckks.ct<level = 4, log_scale = 26>) -> !ckks.ct<level = 4, log_scale = 52, degree = 2> loc("/act1/Mul")
    %14 = ckks.relinearize %13 : (!ckks.ct<level = 4, log_scale = 52, degree = 2>) -> !ckks.ct<level = 4, log_scale = 52> loc("/act1/Mul")
    %15 = ckks.rescale %14 : (!ckks.ct<level = 4, log_scale = 52>) -> !ckks.ct<level = 3, log_scale = 26> loc("/act1/Mul")
    %16 = ckks.rotate %15 {offset = 1} : !ckks.ct<level = 3, log_scale = 26> loc("/fc2/Gemm")
    %17 = ckks.encode {value = {kind = "diagonal", weights = dense_resource<fc2_Gemm_weight> : tensor<2x2xf32>, input = !pack.vec<slots = 4096, size = 2, period = 2>, baby_steps = 2, index = 0, giant = 0}} : !ckks.pt<level = 3, log_scale = 26> loc("/fc2/Gemm")
    %18 = ckks.mul_plain %15, %17 : (!ckks.ct<level = 3, log_scale = 26>, !ckks.pt<level = 3, log_scale = 26>) -> !ckks.ct<level = 3, log_scale = 52> loc("/fc2/Gemm")
    %19 = ckks.rescale %18 : (!ckks.ct<level = 3, log_scale = 52>) -> !ckks.ct<level = 2, log_scale = 26> loc("/fc2/Gemm")
    %20 = ckks.encode {value = {kind = "diagonal", weights = dense_resource<fc2_Gemm_weight> : tensor<2x2xf32>, input = !pack.vec<slots = 4096, size = 2, period = 2>, baby_steps = 2, index = 1, giant = 0}} : !ckks.pt<level = 3, log_scale = 26> loc("/fc2/Gemm")
    %21 = ckks.mul_plain %16, %20 : (!ckks.ct<level = 3, log_scale = 26>, !ckks.pt<level = 3, log_scale = 26>) -> !ckks.ct<level = 3, log_scale = 52> loc("/fc2/Gemm")
    %22 = ckks.rescale %21 : (!ckks.ct<level = 3, log_scale = 52>) -> !ckks.ct<level = 2, log_scale = 26> loc("/fc2/Gemm")
    %23 = ckks.add %19, %22 : !ckks.ct<level = 2, log_scale = 26> loc("/fc2/Gemm")
    %24 = ckks.encode {value = {kind = "vector", values = dense_resource<fc2_Gemm_bias> : tensor<2xf32>, layout = !pack.vec<slots = 4096, size = 2, period = 2>}} : !ckks.pt<level = 2, log_scale = 26> loc("/fc2/Gemm")
    %25 = ckks.add_plain %23, %24 : (!ckks.ct<level = 2, log_scale = 26>, !ckks.pt<level = 2, log_scale = 26>) -> !ckks.ct<level = 2, log_scale = 26> loc("/fc2/Gemm")
    %26 = ckks.decrypt %25 {layout = !pack.vec<slots = 4096, size = 2, period = 2>} : (!ckks.ct<level = 2, log_scale = 26>) -> tensor<1x2xf32>
    return %26 : tensor<1x2xf32>
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
