// lower-to-ckks (pack -> ckks): BSGS expansion of each pack.linear into
// rotations and plaintext products, a rescale after every product, the
// square as mul + relinearize + rescale, levels counting down from the top,
// and the rotation steps recorded on the module for keygen.
// RUN: orion-opt --pass lower-to-ckks %s | FileCheck %s
// RUN: orion-opt --pass lower-to-ckks --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS

// CHECK:       module attributes {ckks.params = {log_n = 13, {{.*}}}, ckks.rotations = array<i64: 1, 2>} {
// CHECK-LABEL: func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
// CHECK-NOT:   pack.linear
// CHECK:       %[[CT:.*]] = ckks.encrypt %x {{.*}} -> !ckks.ct<level = 5, log_scale = 26>
// CHECK-NEXT:  %[[R1:.*]] = ckks.rotate %[[CT]] {offset = 1} : !ckks.ct<level = 5, log_scale = 26> loc("/fc1/Gemm")
// CHECK:       %[[D0:.*]] = ckks.encode {value = {kind = "diagonal", {{.*}}index = 0{{.*}}} : !ckks.pt<level = 5, log_scale = 26>
// CHECK-NEXT:  %[[M0:.*]] = ckks.mul_plain %[[CT]], %[[D0]] : {{.*}} -> !ckks.ct<level = 5, log_scale = 52>
// CHECK-NEXT:  ckks.rescale %[[M0]] : (!ckks.ct<level = 5, log_scale = 52>) -> !ckks.ct<level = 4, log_scale = 26>
// CHECK:       ckks.rotate %{{.*}} {offset = 2}
// CHECK:       ckks.add_plain
// CHECK:       %[[SQ:.*]] = ckks.mul %[[A:.*]], %[[A]] : {{.*}} -> !ckks.ct<level = 4, log_scale = 52, degree = 2> loc("/act1/Mul")
// CHECK-NEXT:  %[[RL:.*]] = ckks.relinearize %[[SQ]] : {{.*}} -> !ckks.ct<level = 4, log_scale = 52> loc("/act1/Mul")
// CHECK-NEXT:  ckks.rescale %[[RL]] : {{.*}} -> !ckks.ct<level = 3, log_scale = 26> loc("/act1/Mul")
// CHECK:       %[[OUT:.*]] = ckks.decrypt %{{.*}} : (!ckks.ct<level = 2, log_scale = 26>) -> tensor<1x2xf32>
// CHECK-NEXT:  return %[[OUT]] : tensor<1x2xf32>

// STATS:      lower-to-ckks
// STATS-NEXT:   (rotations) 3
// STATS-NEXT:   (relinearizations) 1
// STATS-NEXT:   (rescales) 5
// STATS-NEXT:   (plaintext-products) 4

module {
  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %0 = pack.pack %x : (tensor<1x4xf32>) -> !pack.vec<slots = 4096, size = 4, period = 4>
    %1 = pack.linear %0 {weights = dense_resource<fc1_Gemm_weight_bn> : tensor<2x4xf32>, bias = dense_resource<fc1_Gemm_bias_bn> : tensor<2xf32>, embedding = "hybrid", baby_steps = 2} : (!pack.vec<slots = 4096, size = 4, period = 4>) -> !pack.vec<slots = 4096, size = 2, period = 2> loc("/fc1/Gemm")
    %2 = pack.square %1 : !pack.vec<slots = 4096, size = 2, period = 2> loc("/act1/Mul")
    %3 = pack.linear %2 {weights = dense_resource<fc2_Gemm_weight> : tensor<2x2xf32>, bias = dense_resource<fc2_Gemm_bias> : tensor<2xf32>, embedding = "hybrid", baby_steps = 2} : !pack.vec<slots = 4096, size = 2, period = 2> loc("/fc2/Gemm")
    %4 = pack.unpack %3 : (!pack.vec<slots = 4096, size = 2, period = 2>) -> tensor<1x2xf32>
    return %4 : tensor<1x2xf32>
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
