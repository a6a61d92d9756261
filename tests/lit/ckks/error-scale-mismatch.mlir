// Adding ciphertexts of different scales: the verifier names the op.
// RUN: not orion-opt %s 2>&1 | FileCheck %s

// CHECK: {{.*}}error-scale-mismatch.mlir:10:5: error: 'ckks.add' op operands have different scales (2^26 and 2^52)

module attributes {ckks.params = {log_n = 13, log_q = array<i64: 29, 26, 26, 26, 26, 26>, log_p = array<i64: 29, 29>, log_scale = 26}, ckks.rotations = array<i64>} {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = ckks.encrypt %x {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (tensor<4xf32>) -> !ckks.ct<level = 5, log_scale = 26>
    %1 = ckks.mul %0, %0 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.ct<level = 5, log_scale = 26>) -> !ckks.ct<level = 5, log_scale = 52, degree = 2>
    %2 = ckks.add %0, %1 : (!ckks.ct<level = 5, log_scale = 26>, !ckks.ct<level = 5, log_scale = 52, degree = 2>) -> !ckks.ct<level = 5, log_scale = 26>
    %3 = ckks.decrypt %2 {layout = !pack.vec<slots = 4096, size = 4, period = 4>} : (!ckks.ct<level = 5, log_scale = 26>) -> tensor<4xf32>
    return %3 : tensor<4xf32>
  }
}
