// A ckks program whose ciphertexts sit above the parameters' top level: the
// verifier refuses it with the op and the level budget, before any keygen.
// RUN: not orion-opt %s 2>&1 | FileCheck %s
// RUN: not orion-run %s --input %inputs/four.npy 2>&1 | FileCheck %s

// CHECK: {{.*}}error-levels-exceed-params.mlir:10:5: error: 'ckks.encrypt' op level 7 exceeds the parameters' top level 5 (log_q has 6 primes)

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64>} {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 7, log_scale = 26>
    %1 = ckks.decrypt %0 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 7, log_scale = 26>) -> tensor<4xf32>
    return %1 : tensor<4xf32>
  }
}
