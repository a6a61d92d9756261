// schedule-ckks: each sum right after its products (demand order), so that
// fewer ciphertexts are alive at once; values and types are unchanged.
// RUN: orion-opt --pass schedule-ckks %s | FileCheck %s
// RUN: orion-opt --pass schedule-ckks --pass-statistics %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// RUN: orion-opt --pass schedule-ckks %s | orion-opt --pass schedule-ckks - | FileCheck %s

// CHECK:      %[[X:[0-9]+]] = ckks.encrypt
// CHECK:      ckks.mul_plain %[[X]]
// CHECK-NEXT: ckks.rotate %[[X]] {offset = 1}
// CHECK-NEXT: ckks.mul_plain
// CHECK-NEXT: %[[S0:[0-9]+]] = ckks.add
// CHECK-NEXT: ckks.rotate %[[X]] {offset = 2}
// CHECK-NEXT: ckks.mul_plain
// CHECK-NEXT: ckks.rotate %[[X]] {offset = 3}
// CHECK-NEXT: ckks.mul_plain
// CHECK-NEXT: %[[S1:[0-9]+]] = ckks.add
// CHECK-NEXT: ckks.add %[[S0]], %[[S1]]
// CHECK-NEXT: ckks.rescale
// CHECK-NEXT: ckks.decrypt
// STATS:      schedule-ckks
// STATS-NEXT:   (peak-live-ciphertexts-before) 5
// STATS-NEXT:   (peak-live-ciphertexts-after) 4

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64: 1, 2, 3>} {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = ckks.encode {value = {kind = "vector", values = dense_resource<w> : tensor<4xf32>, layout = !pack.vec<slots = 4096, size = 4, period = 4>}} : !ckks.pt<level = 5, log_scale = 26>
    %1 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %2 = ckks.rotate %1 {offset = 1} : !ckks.ct<level = 5, log_scale = 26>
    %3 = ckks.rotate %1 {offset = 2} : !ckks.ct<level = 5, log_scale = 26>
    %4 = ckks.rotate %1 {offset = 3} : !ckks.ct<level = 5, log_scale = 26>
    %5 = ckks.mul_plain %1, %0 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.pt<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52>
    %6 = ckks.mul_plain %2, %0 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.pt<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52>
    %7 = ckks.mul_plain %3, %0 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.pt<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52>
    %8 = ckks.mul_plain %4, %0 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.pt<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52>
    %9 = ckks.add %5, %6 : !ckks.ct<level = 5, log_scale = 52>
    %10 = ckks.add %7, %8 : !ckks.ct<level = 5, log_scale = 52>
    %11 = ckks.add %9, %10 : !ckks.ct<level = 5, log_scale = 52>
    %12 = ckks.rescale %11 : (!ckks.ct<level = 5, log_scale = 52>) -> !ckks.ct<level = 4, log_scale = 26>
    %13 = ckks.decrypt %12 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 4, log_scale = 26>) -> tensor<4xf32>
    return %13 : tensor<4xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000003F000080BE0000403F"
    }
  }
#-}
